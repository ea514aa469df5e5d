"""Read a station list into a :class:`Table`: XLSX, CSV, GeoJSON, and (through geopandas) GeoPackage and
Shapefile.

- XLSX (openpyxl): the chosen sheet, else the first with a header; cells merged over several rows or
  columns are read as their top-left value in each cell (a title row merged across the top is skipped,
  a county merged down its rows fills each row, a header ``坐标`` merged over ``经度``/``纬度`` gives
  those two). Formulas are read as their last computed value.
- CSV: UTF-8, UTF-8 with BOM, UTF-16 with BOM, or GBK/GB18030 (what Excel on Chinese Windows saves),
  detected (``encoding=`` forces one); comma, semicolon or tab separated.
- GeoJSON: a FeatureCollection (or a list of Features) of Points; ``lon``/``lat`` come from the geometry.
- GeoPackage, Shapefile (``.gpkg``, ``.shp``, ``.zip``): reprojected to WGS-84 from the layer's CRS.

The header is the first of the first :data:`HEADER_SEARCH_ROWS` rows with at least two recognised
column names (a title above it is skipped); a second header row below cells merged across columns
(or left blank) is combined with it. Blank rows are skipped; row numbers are kept as the spreadsheet
shows them. A text cell ``'=…`` that an export neutralised against formula injection
(``stations.spreadsheet``) is read back as ``=…``.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import Problem, ValidationError, not_unicode_at
from ..spreadsheet import FORMULA_STARTS
from .problems import RowProblem
from .vocabulary import header_field

log = logging.getLogger(__name__)

HEADER_SEARCH_ROWS = 10
#: workbooks larger than this are read in openpyxl's streaming mode (no merged-cell filling)
XLSX_FULL_READ_MAX_BYTES = 8 * 1024 * 1024
FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv", ".txt": "csv", ".geojson": "geojson",
           ".json": "geojson", ".gpkg": "gis", ".shp": "gis", ".zip": "gis"}
CSV_ENCODINGS = ("utf-8", "gb18030")


@dataclass(frozen=True)
class SourceRow:
    """One data row: its number as the spreadsheet shows it (a GeoJSON feature's 1-based index) and
    its cells in the order of :attr:`Table.headers`."""

    number: int
    cells: tuple[Any, ...]


@dataclass
class Table:
    """A station list as read: headers as written, data rows, and how it was read."""

    headers: list[str]
    rows: list[SourceRow]
    source: str
    format: str
    sheet: str | None = None
    encoding: str | None = None
    header_rows: tuple[int, ...] = ()
    problems: list[RowProblem] = field(default_factory=list)


class ImportFileError(ValidationError):
    """The file cannot be read as a station list; ``row_problems`` say why (also as ``problems``)."""

    def __init__(self, row_problems: list[RowProblem], source: str = ""):
        self.row_problems = list(row_problems)
        self.source = source
        super().__init__([Problem(source or "file", p.column or "(file)", p.value, p.message("en"))
                          for p in self.row_problems])


def _fail(code: str, source: str, value: Any = None, **params: Any) -> ImportFileError:
    return ImportFileError([RowProblem(code, row=None, value=value, params=params)], source)


def clean_cell(value: Any) -> Any:
    """A cell as read: text stripped (``None`` when blank), a neutralised ``'=…`` back to ``=…``."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
            text = text[1:]
        return text or None
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def _blank(cells: tuple) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _find_header(grid: list[tuple[int, tuple]], merged_across: set[tuple[int, int]], source: str
                 ) -> tuple[list[str], int, tuple[int, ...]]:
    """(headers, index in ``grid`` of the first data row, header row numbers)."""
    for i, (number, cells) in enumerate(grid[:HEADER_SEARCH_ROWS]):
        texts = ["" if c is None else str(c).strip() for c in cells]
        if sum(header_field(t) is not None for t in texts if t) < 2:
            continue
        if i + 1 < len(grid):
            below_number, below = grid[i + 1]
            sub = ["" if c is None else str(c).strip() for c in below]
            spans = [j for j, t in enumerate(sub)
                     if t and header_field(t) is not None and j < len(texts)
                     and (not texts[j] or (number, j) in merged_across
                          or (j > 0 and texts[j] == texts[j - 1]) or (j + 1 < len(texts) and texts[j] == texts[j + 1]))]
            if spans:
                headers = [sub[j] if j < len(sub) and sub[j] else texts[j] for j in range(len(texts))]
                return headers, i + 2, (number, below_number)
        return texts, i + 1, (number,)
    raise _fail("no_header", source, rows=HEADER_SEARCH_ROWS)


def _table(grid: list[tuple[int, tuple]], source: str, fmt: str, merged_across: set[tuple[int, int]] = frozenset(),
           **extra: Any) -> Table:
    grid = [(n, tuple(clean_cell(c) for c in cells)) for n, cells in grid if not _blank(cells)]
    headers, start, header_rows = _find_header(grid, set(merged_across), source)
    width = len(headers)
    while width and not headers[width - 1]:
        width -= 1  # trailing blank header cells
    rows = [SourceRow(n, tuple(cells[:width]) + (None,) * (width - len(cells[:width])))
            for n, cells in grid[start:]]
    rows = [r for r in rows if not _blank(r.cells)]
    table = Table(headers[:width], rows, source, fmt, header_rows=header_rows, **extra)
    if not rows:
        table.problems.append(RowProblem("no_rows", "warning"))
    return table


# ---- XLSX ---------------------------------------------------------------------------------------

def _read_xlsx(data: bytes, source: str, sheet: str | None) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    streaming = len(data) > XLSX_FULL_READ_MAX_BYTES
    try:
        book = load_workbook(io.BytesIO(data), data_only=True, read_only=streaming)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _fail("unreadable_file", source, reason=f"not an XLSX workbook ({type(exc).__name__})") from None
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise _fail("unknown_sheet", source, sheet, allowed="、".join(names))
        candidates = [sheet] if sheet is not None else names
        last_error: ImportFileError | None = None
        for name in candidates:
            try:
                return _read_sheet(book[name], source, streaming)
            except ImportFileError as exc:
                last_error = exc
        raise last_error or _fail("no_rows", source)
    finally:
        book.close()


def _read_sheet(ws, source: str, streaming: bool) -> Table:
    grid = [(i, tuple(row)) for i, row in enumerate(ws.iter_rows(values_only=True), start=1)]
    merged_across: set[tuple[int, int]] = set()
    if not streaming:
        cells = {n: list(row) for n, row in grid}
        for rng in ws.merged_cells.ranges:
            top_left = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                row = cells.setdefault(r, [])
                row.extend([None] * (rng.max_col - len(row)))
                for c in range(rng.min_col, rng.max_col + 1):
                    row[c - 1] = top_left
                    if rng.max_col > rng.min_col:
                        merged_across.add((r, c - 1))
        grid = sorted((n, tuple(row)) for n, row in cells.items())
    return _table(grid, source, "xlsx", merged_across, sheet=ws.title)


# ---- CSV ----------------------------------------------------------------------------------------

def decode_text(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    """(text, encoding used): the forced ``encoding``, else by BOM, else UTF-8, else GB18030 (a
    superset of GBK), else charset-normalizer's best guess."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise _fail("unreadable_file", source, reason=f"not {encoding} text ({exc.__class__.__name__})") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for name in CSV_ENCODINGS:
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if name != "utf-8" and not _has_header(text):
            continue  # decoded, but no known header: probably another encoding
        return text, name
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(data).best()
    except ImportError:  # pragma: no cover - charset-normalizer comes with requests
        best = None
    if best is not None:
        return str(best), best.encoding
    raise _fail("unknown_encoding", source, tried=", ".join(CSV_ENCODINGS))


def _has_header(text: str) -> bool:
    for line in text.splitlines()[:HEADER_SEARCH_ROWS]:
        if sum(header_field(c) is not None for c in line.replace("\t", ",").replace(";", ",").split(",") if c) >= 2:
            return True
    return False


def _read_csv(data: bytes, source: str, encoding: str | None) -> Table:
    text, used = decode_text(data, encoding, source)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        grid = [(i, tuple(row)) for i, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1)]
    except csv.Error as exc:
        raise _fail("unreadable_file", source, reason=f"not CSV ({exc})") from None
    return _table(grid, source, "csv", encoding=used)


# ---- GeoJSON and GIS layers ----------------------------------------------------------------------

def _feature_rows(records: list[tuple[dict, tuple[float, float] | None]], source: str, fmt: str, **extra) -> Table:
    """A table of features: their properties' keys as headers, then ``lon``/``lat`` from the Points
    (which replace position properties of the same meaning)."""
    headers: list[str] = []
    for props, _ in records:
        headers += [k for k in props if k not in headers]
    has_position = any(pos is not None for _, pos in records)
    if has_position:
        headers = [h for h in headers if header_field(h) not in ("lon", "lat", "lonlat")]
    rows = []
    for i, (props, pos) in enumerate(records, start=1):
        cells = [clean_cell(_json_cell(props.get(h))) for h in headers]
        if has_position:
            cells += list(pos) if pos is not None else [None, None]
        rows.append(SourceRow(i, tuple(cells)))
    table = Table(headers + ["lon", "lat"] * has_position, [r for r in rows if not _blank(r.cells)], source, fmt,
                  **extra)
    if not table.rows:
        table.problems.append(RowProblem("no_rows", "warning"))
    return table


def _json_cell(value: Any) -> Any:
    if isinstance(value, list):
        return value if all(isinstance(v, str) for v in value) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _read_geojson(data: bytes, source: str) -> Table:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _fail("unreadable_file", source, reason=f"not UTF-8 JSON ({exc.__class__.__name__})") from None
    where = not_unicode_at(doc)
    if where is not None:  # "\ud800": a lone surrogate, no character; nothing could show or store the text
        raise _fail("unreadable_file", source,
                    reason=f"not UTF-8 JSON (a lone surrogate in {where or 'a member name'})")
    features = doc.get("features") if isinstance(doc, dict) else doc
    if not isinstance(features, list):
        raise _fail("unreadable_file", source, reason="not a GeoJSON FeatureCollection")
    records = []
    for feature in features:
        feature = feature if isinstance(feature, dict) else {}
        props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        geom = feature.get("geometry") if isinstance(feature.get("geometry"), dict) else {}
        coords = geom.get("coordinates") if geom.get("type") == "Point" else None
        pos = (coords[0], coords[1]) if isinstance(coords, list) and len(coords) >= 2 else None
        props = dict(props)
        if "id" not in props and isinstance(feature.get("id"), str):
            props["id"] = feature["id"]
        records.append((props, pos))
    return _feature_rows(records, source, "geojson")


def _read_gis(path: str, source: str, layer: str | None) -> Table:
    try:
        import geopandas
    except ImportError:  # pragma: no cover - geopandas is a dependency
        raise _fail("unreadable_file", source, reason="geopandas is not installed") from None
    try:
        frame = geopandas.read_file(path, layer=layer) if layer else geopandas.read_file(path)
    except Exception as exc:  # pyogrio raises its own types for every kind of bad file
        raise _fail("unreadable_file", source, reason=f"{type(exc).__name__}: {exc}") from None
    if frame.crs is not None:
        frame = frame.to_crs(4326)  # WGS-84 lon/lat
    columns = [c for c in frame.columns if c != frame.geometry.name]
    records = []
    for _, row in frame.iterrows():
        geom = row[frame.geometry.name]
        pos = (geom.x, geom.y) if geom is not None and geom.geom_type == "Point" else None
        props = {c: (None if _is_missing(row[c]) else _plain(row[c])) for c in columns}
        records.append((props, pos))
    return _feature_rows(records, source, "gis", sheet=layer)


def _is_missing(value: Any) -> bool:
    try:
        return value is None or bool(value != value)  # NaN
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value


# ---- entry point --------------------------------------------------------------------------------

def read_table(source: str | os.PathLike | bytes | BinaryIO, *, filename: str | None = None,
               sheet: str | None = None, encoding: str | None = None) -> Table:
    """Read a station list (see the module docstring). ``source``: a path, the file's bytes, or a
    binary file object (an upload); ``filename`` names it (its extension chooses the format) when
    ``source`` is not a path. ``sheet``: the XLSX sheet (or GIS layer); ``encoding``: a CSV's.

    Raises :class:`ImportFileError` when the file cannot be read as a station list.
    """
    path = None
    if isinstance(source, (str, os.PathLike)):
        path = str(source)
        filename = filename or os.path.basename(path)
    name = filename or "upload"
    ext = Path(name).suffix.lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        raise _fail("unknown_format", name, ext or name, allowed=", ".join(sorted(FORMATS)))
    if fmt == "gis":
        if path is None:
            import tempfile
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, os.path.basename(name))
                with open(path, "wb") as fh:
                    fh.write(source if isinstance(source, bytes) else source.read())
                return _read_gis(path, name, sheet)
        return _read_gis(path, name, sheet)
    if path is not None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise _fail("unreadable_file", name, reason=exc.strerror or str(exc)) from None
    else:
        data = source if isinstance(source, bytes) else source.read()
    if fmt == "xlsx":
        return _read_xlsx(data, name, sheet)
    if fmt == "csv":
        return _read_csv(data, name, encoding)
    return _read_geojson(data, name)


def cell_text(value: Any) -> str:
    """A cell as text for messages and reports (dates ISO, whole floats without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)
