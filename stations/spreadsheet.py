"""Spreadsheet cells that never run as formulas (CSV / formula injection, OWASP's rule).

Excel, LibreOffice Calc and WPS run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and skip a leading tab or carriage return before reading it so. A county or station name
such as ``=HYPERLINK(...)`` must stay text. So every CSV and XLSX this project writes passes its
cells through :func:`safe_cell`: a text value that starts with one of those characters gets a
leading single quote (``'=1+1``); numbers (``-3.5`` too) stay numbers. XLSX rows go through
:func:`append_row`, which also stores every text value as a string cell: openpyxl would otherwise
store a text starting with ``=`` as a live formula.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a cell: text starting with ``= + - @``, a tab or a CR gets a leading ``'``; others as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` of every value (for ``csv.writer.writerow``)."""
    return [safe_cell(v) for v in values]


#: what an XLSX cell cannot hold (openpyxl's ``ILLEGAL_CHARACTERS_RE``: the C0 controls but tab, LF and CR)
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def append_row(sheet, values: Iterable[Any]) -> tuple:
    """Append a row to an openpyxl worksheet, text as text cells (never formulas); the row's cells. A control
    character XML cannot carry is written as U+FFFD, so that one odd character never stops a whole export or
    report: the validator refuses them in station texts, but an import report shows the cells as read."""
    row = [_NOT_IN_XLSX.sub("\ufffd", v) if isinstance(v, str) else v for v in safe_row(values)]
    sheet.append(row)
    cells = tuple(sheet.cell(row=sheet.max_row, column=i) for i in range(1, len(row) + 1))
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"
    return cells
