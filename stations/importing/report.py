"""The import's report: as text (the command line, a log) and as a downloadable XLSX or CSV.

The downloadable report is the file's own rows, in their order and with their row numbers, plus three
columns: the result (新增/修改/未变/拒绝/跳过), the station id, and every problem of the row (errors,
warnings and notes, each with its column). Problems of the whole file come first (XLSX: their own
sheet). Every cell goes through ``stations.spreadsheet`` (no text ever runs as a formula). The words
are the catalogue's (``import.result.*``, ``import.report.*``, ``import.text.*``; ``stations.i18n``).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .. import i18n
from ..spreadsheet import append_row, safe_row
from .plan import ImportPlan
from .readers import cell_text

#: what becomes of a row (add, change, unchanged, rejected, skipped) or of a station (remove, keep)
RESULTS = ("add", "change", "unchanged", "rejected", "skipped", "remove", "keep")
REPORT_FORMATS = ("xlsx", "csv")


def _t(key: str, lang: str, **values: Any) -> str:
    return i18n.gettext(key, lang, **values)


def result_word(action: str, lang: str = "zh") -> str:
    """新增 / added ...: a row's or station's result in words (the action itself if it has none)."""
    return _t(f"import.result.{action}", lang) if action in RESULTS else action


def _severity(problem, lang: str) -> str:
    return _t(f"import.severity.{problem.severity}", lang)


def _problem_text(problem, lang: str) -> str:
    if problem.column:
        return _t("import.report.problem_column", lang, severity=_severity(problem, lang), column=problem.column,
                  message=problem.message(lang))
    return _t("import.report.problem", lang, severity=_severity(problem, lang), message=problem.message(lang))


def report_rows(plan: ImportPlan, lang: str = "zh") -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of the downloadable report: the file's columns between the row number and the
    result, id and problems columns."""
    row_h, result_h, id_h, problems_h = (_t(f"import.report.col.{name}", lang)
                                         for name in ("row", "result", "id", "problems"))
    head = [row_h, *plan.table.headers, result_h, id_h, problems_h]
    outcomes = {r.number: r for r in plan.rows}
    sep = _t("import.report.problem_separator", lang)
    rows: list[list[Any]] = []
    for problem in plan.file_problems:
        rows.append([None] * (len(head) - 1) + [_problem_text(problem, lang)])
    for source in plan.table.rows:
        outcome = outcomes.get(source.number)
        action = result_word(outcome.action, lang) if outcome else ""
        problems = sep.join(_problem_text(p, lang) for p in (outcome.problems if outcome else []))
        cells = [cell_text(c) if isinstance(c, list) else c for c in source.cells]
        rows.append([source.number, *cells, action, outcome.station_id if outcome else None, problems or None])
    return head, rows


def report_bytes(plan: ImportPlan, fmt: str = "xlsx", lang: str = "zh") -> bytes:
    """The downloadable report as XLSX (the rows, a sheet of the stations removed or kept, and a sheet
    of the file's problems) or CSV (UTF-8 with BOM)."""
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(REPORT_FORMATS)}; got {fmt!r}")
    head, rows = report_rows(plan, lang)
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(safe_row(head))
        for row in rows:
            writer.writerow(safe_row("" if v is None else v for v in row))
        return text.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = _t("import.report.sheet", lang)
    for cell in append_row(sheet, head):
        cell.font = Font(bold=True)
    bad = PatternFill("solid", fgColor="F8CBAD")
    for row in rows:
        cells = append_row(sheet, row)
        if row[-3] == result_word("rejected", lang) or (row[0] is None and row[-1]):
            for cell in cells:
                cell.fill = bad
    sheet.freeze_panes = "B2"
    others = [s for s in plan.stations if s.action in ("remove", "keep") and s.row is None]
    if others:
        extra = book.create_sheet(_t("import.report.sheet_others", lang))
        append_row(extra, [_t(f"import.report.others.{name}", lang) for name in ("id", "name", "result")])
        for s in others:
            append_row(extra, [s.station_id, (s.before or s.after).name, result_word(s.action, lang)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def save_report(plan: ImportPlan, path: str | Path, lang: str = "zh") -> Path:
    """Write the report to ``path``; its extension (``.xlsx`` or ``.csv``) chooses the format."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"a report is .xlsx or .csv; got {path.name!r}")
    path.write_bytes(report_bytes(plan, fmt, lang))
    return path


def report_text(plan: ImportPlan, lang: str = "zh", max_items: int | None = 200) -> str:
    """The dry run in words: how the file was read, the counts, every problem, and the stations added,
    changed and removed (``max_items`` of each list at most; None: all)."""
    t = plan.table
    c = plan.counts()
    lines = []
    where = [_t("import.text.sheet", lang, sheet=t.sheet)] if t.sheet else []
    where += [_t("import.text.encoding", lang, encoding=t.encoding)] if t.encoding else []
    opts = plan.options
    details = _t("import.text.details", lang, items=_t("import.text.separator", lang).join(where)) if where else ""
    lines.append(_t("import.text.heading", lang, source=t.source, details=details, mode=opts.mode, crs=opts.crs))
    lines.append(_t("import.text.counts", lang, **{k: c[k] for k in ("rows", "added", "changed", "unchanged", "removed",
                                                                     "kept", "rejected", "skipped")}))
    geo = plan.geocoding
    if geo.get("rows"):
        provider = geo.get("provider") or _t("import.text.geocoding_off", lang)
        lines.append(_t("import.text.geocoding", lang, provider=provider, rows=geo["rows"], found=geo.get("found", 0),
                        asked=geo.get("asked", 0), cached=geo.get("cached", 0)))
    problems = plan.problems
    if problems:
        lines.append(_t("import.text.problems", lang))
        lines += ["  " + _t("import.report.problem", lang, severity=_severity(p, lang), message=p.text(lang))
                  for p in problems]

    def listing(title: str, items: list, describe) -> None:
        if not items:
            return
        lines.append(title)
        shown = items if max_items is None else items[:max_items]
        lines.extend("  " + describe(s) for s in shown)
        if len(shown) < len(items):
            lines.append("  " + _t("import.text.more", lang, n=len(items) - len(shown)))

    def station(s, name: str) -> str:
        return f"{s.station_id} {name}" + (_t("import.text.row", lang, row=s.row) if s.row else "")

    listing(_t("import.text.added", lang), plan.added, lambda s: station(s, s.after.name))
    listing(_t("import.text.changed", lang), plan.changed,
            lambda s: _t("import.text.changed_item", lang, station=station(s, s.after.name),
                         fields=", ".join(s.fields)))
    listing(_t("import.text.removed", lang), plan.removed, lambda s: f"{s.station_id} {s.before.name}")
    if not plan.file_ok:
        lines.append(_t("import.text.file_errors", lang))
    elif plan.rejected and not opts.skip_bad:
        lines.append(_t("import.text.rejected", lang, n=len(plan.rejected)))
    return "\n".join(lines)
