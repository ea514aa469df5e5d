"""Stations out to XLSX or CSV with exactly the columns the import reads, and the import template.

An export edited in Excel and imported again changes only what was edited: ids, names and every value
are written so that the import reads them back as they are stored (vocabulary values as their Chinese
labels, or keys with ``lang="en"``; amenities joined by ``、``; positions WGS-84 to 7 decimals;
text cells neutralised against formula injection by ``stations.spreadsheet``, which the import undoes).
CSV is UTF-8 with a BOM, which Excel opens as UTF-8.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from .. import i18n
from ..model import COORD_DECIMALS, Station
from ..spreadsheet import append_row, safe_row
from .rows import EXAMPLE_MARK
from .vocabulary import BY_FIELD, COLUMNS, allowed_values, vocabulary_labels

FORMATS = ("xlsx", "csv")
EXPORT_COLUMNS = tuple(c for c in COLUMNS if c.exported)
SHEET_NAME = {"zh": "驿站", "en": "stations"}
README_SHEET = "说明 README"
LIST_SEPARATOR = "、"


def headers(lang: str = "zh") -> list[str]:
    """The export's headers: Chinese (default) or English."""
    return [c.zh if lang == "zh" else c.en for c in EXPORT_COLUMNS]


def _label(vocab: str, key: str | None, lang: str) -> str | None:
    if key is None:
        return None
    return vocabulary_labels(vocab).get(key, {}).get("zh", key) if lang == "zh" else key


def row_values(station: Station, counties=None, lang: str = "zh") -> list[Any]:
    """One station as the export's cells (in :func:`headers` order)."""
    county = station.county_code
    if county and counties is not None and county in counties and lang == "zh":
        county = counties.name(county)
    values = {
        "id": station.id, "name": station.name, "kind": _label("kind", station.kind, lang), "county": county,
        "address": station.address, "lon": round(station.lon, COORD_DECIMALS),
        "lat": round(station.lat, COORD_DECIMALS), "phone": station.phone, "opening_hours": station.opening_hours,
        "amenities": (LIST_SEPARATOR if lang == "zh" else ", ").join(
            _label("amenity", a, lang) for a in station.amenities) or None,
        "status": _label("status", station.status, lang), "host": station.host, "opened_on": station.opened_on,
        "last_verified_on": station.last_verified_on, "palace_class": station.palace_class,
        "floor_area_m2": station.floor_area_m2, "beds": station.beds,
        "sample": ("是" if station.sample else "否") if lang == "zh" else ("yes" if station.sample else "no"),
        "source": station.source,
    }
    return [values[c.field] for c in EXPORT_COLUMNS]


def _xlsx(sheets: list[tuple[str, list[str], list[list[Any]]]], highlight_first_row: bool = False) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    for number, (title, head, rows) in enumerate(sheets):
        sheet = book.create_sheet(title)
        for cell in append_row(sheet, head):
            cell.font = Font(bold=True)
        for i, row in enumerate(rows):
            cells = append_row(sheet, row)
            if highlight_first_row and number == 0 and i == 0:
                for cell in cells:
                    cell.fill = PatternFill("solid", fgColor="FFF2CC")
        sheet.freeze_panes = "A2"
        for i, text in enumerate(head, start=1):
            width = max([len(str(text)) * 2] + [len(str(r[i - 1])) * 1.6 for r in rows[:200]
                                                 if len(r) >= i and r[i - 1] is not None])
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(max(width, 8), 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(head: list[str], rows: Iterable[list[Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(safe_row(head))
    for row in rows:
        writer.writerow(safe_row("" if v is None else v for v in row))
    return text.getvalue().encode("utf-8-sig")


def export_stations(stations: Iterable[Station], counties=None, fmt: str = "xlsx", lang: str = "zh",
                    info: Any = None) -> bytes:
    """The stations (sorted by id) as an XLSX workbook or a CSV file (bytes), with the import's columns.

    ``counties`` turns county codes into names (``lang="zh"``); ``lang="en"`` writes English headers and
    vocabulary keys. Both read back unchanged through ``stations.importing``.

    ``info`` (a ``stations.exporting.ExportInfo``: attribution, licence, data date, sample notice) goes
    inside the file: in a CSV as constant columns after the station columns (the header stays the first
    row, for every CSV reader; the import reads past them, ``METADATA_HEADERS``), in a workbook as a
    second sheet ``说明 README``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    head = headers(lang)
    rows = [row_values(s, counties, lang) for s in sorted(stations, key=lambda s: s.id)]
    if fmt == "csv":
        if info is not None:
            extra = info.columns()
            head = head + [name for name, _ in extra]
            rows = [row + [value for _, value in extra] for row in rows]
        return _csv(head, rows)
    sheets = [(SHEET_NAME.get(lang, "stations"), head, rows)]
    if info is not None:
        sheets.append((README_SHEET, ["key", "value"], [list(pair) for pair in info.items()]))
    return _xlsx(sheets)


EXAMPLE = {"id": EXAMPLE_MARK, "name": "示例：古槐路爱心驿站", "kind": "户外劳动者驿站", "address": "古槐路18号",
           "lon": 116.587, "lat": 35.415, "phone": "0537-2345678", "opening_hours": "周一至周五 8:00-18:00",
           "amenities": "饮用水、卫生间、微波炉", "status": "开放", "host": "济宁市总工会", "opened_on": "2024-05-01",
           "last_verified_on": "2026-01-15", "sample": "否", "source": "市总工会统计表"}


def template(counties=None, lang: str = "zh") -> bytes:
    """The import template (XLSX): the sheet to fill, headed in Chinese (``lang="en"``: English), with one
    example row marked ``示例`` in the id column (the import skips it), and a sheet of instructions listing
    the columns and the allowed values from the vocabulary (and the counties, when given). The words are
    the catalogue's (``import.template.*``, ``import.column_note.<field>``)."""

    def t(key: str) -> str:
        return i18n.gettext(key, lang)

    def header(field: str) -> str:
        return BY_FIELD[field].zh if lang == "zh" else BY_FIELD[field].en

    def note(field: str) -> str:
        key = f"import.column_note.{field}"
        return t(key) if i18n.has(key) else ""

    example = dict(EXAMPLE)
    if counties is not None and len(counties):
        example["county"] = counties.name(counties.codes[0])
    else:
        example["county"] = "任城区"
    head = headers(lang)
    rows = [[example.get(c.field) for c in EXPORT_COLUMNS]]
    sep = "、" if lang == "zh" else ", "
    notes = [[t(f"import.template.{item}"), t(f"import.template.{item}.text")]
             for item in ("filling", "positions", "no_position", "again", "all_or_nothing")]
    notes += [[], [t("import.template.column"), t("import.template.explanation")]]
    notes += [[header(c.field), note(c.field)] for c in EXPORT_COLUMNS]
    notes += [[header("lonlat"), note("lonlat")], [], [t("import.template.values"), ""]]
    notes += [[header(field), allowed_values(vocab, lang)]
              for field, vocab in (("kind", "kind"), ("status", "status"), ("amenities", "amenity"))]
    if counties is not None:
        notes.append([header("county"), sep.join(f"{counties.name(c)} ({c})" for c in counties.codes)])
    notes += [[header("opening_hours"), t("import.template.hours")],
              [t("import.template.yes_no"), t("import.template.yes_no.text")]]
    return _xlsx([(SHEET_NAME.get(lang, "stations"), head, rows),
                  (t("import.template.notes_sheet"), [t("import.template.item"), t("import.template.explanation")],
                   notes)], highlight_first_row=True)
