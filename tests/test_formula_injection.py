"""Spreadsheet formula injection: CSV and XLSX files never hold a cell that runs as a formula.

County names such as ``=1+1`` or ``@SUM(A1)`` (legal text in the county file) reach the planner's
CSV and XLSX downloads and ``yizhan coverage --format csv``. OWASP's rule: a text cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, and XLSX
stores it as text; numbers (negative ones too) stay numbers.
"""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from conftest import counties_collection

HOSTILE_SETS = [
    {"370811": "=1+1", "370812": "+cmd", "370883": "-2+3"},
    {"370811": "@SUM(A1)", "370812": "\tx", "370883": "\rx"},
]


def quoted(text: str) -> str:
    """How a formula-like text must appear in a cell (OWASP: a leading single quote)."""
    return "'" + text


@pytest.fixture(params=range(len(HOSTILE_SETS)), ids=["eq-plus-minus", "at-tab-cr"])
def names(request) -> dict[str, str]:
    return HOSTILE_SETS[request.param]


@pytest.fixture
def counties_path(tmp_path, names):
    collection = counties_collection()
    for f in collection["features"]:
        f["properties"]["name"] = names[f["properties"]["adcode"]]
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def in_xml(text: str) -> str:
    """Text as read back from XLSX by a parser that normalises a bare carriage return to a line feed."""
    return text.replace("\r", "\n")


def csv_names(raw: bytes) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return {row[0]: row[1] for row in rows[1:-1]}


def test_planning_csv_quotes_formula_like_names(client, names):
    response = client.get("/planning/download.csv")
    assert response.status_code == 200
    assert csv_names(response.data) == {code: quoted(name) for code, name in names.items()}


def test_planning_xlsx_has_no_formula_and_quotes_the_names_as_text(client, names):
    openpyxl = pytest.importorskip("openpyxl")
    response = client.get("/planning/download.xlsx?new_sites=3")
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    formulas = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert not formulas
    table, sites = wb.worksheets[:2]  # then the README sheet (the report's metadata)
    cells = {row[0].value: row[1] for row in table.iter_rows(min_row=3) if row[0].value}
    for code, name in names.items():  # a CR survives with lxml; the stdlib XML parser reads it as LF
        assert cells[code].value in (quoted(name), in_xml(quoted(name))), code
    assert all(cell.data_type == "s" for cell in cells.values())
    site_rows = list(sites.iter_rows(min_row=2))
    assert len(site_rows) == 3
    for row in site_rows:
        assert row[4].value in (quoted(names[row[3].value]), in_xml(quoted(names[row[3].value])))
        assert row[4].data_type == "s"
        assert row[0].data_type == "n" and row[1].data_type == "n"  # rank and lon stay numbers


def test_cli_coverage_csv_quotes_formula_like_names(stations_path, counties_path, names):
    from yizhan.cli import main

    result = CliRunner().invoke(main, ["coverage", "--format", "csv", "--stations", str(stations_path),
                                       "--counties", str(counties_path)])
    assert result.exit_code == 0, result.output
    assert csv_names(result.stdout_bytes) == {code: quoted(name) for code, name in names.items()}


def test_numbers_stay_numbers_even_negative_ones(client):
    """A negative figure is a number in both files, not quoted text."""
    openpyxl = pytest.importorskip("openpyxl")
    from stations import report

    data = client.get("/api/coverage").get_json()
    data["counties"][0]["area_km2"] = -3.5
    column = report.COLUMNS.index("area_km2")
    rows = list(csv.reader(io.StringIO(report.to_csv(data).decode("utf-8-sig"))))
    assert rows[1][column] == "-3.5"
    cell = openpyxl.load_workbook(io.BytesIO(report.to_xlsx(data))).worksheets[0].cell(row=3, column=column + 1)
    assert cell.value == -3.5 and cell.data_type == "n"


@pytest.mark.parametrize("value,cell", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("任城区", "任城区"), ("a=1", "a=1"), ("", ""), (-3.5, -3.5), (7, 7), (None, None),
])
def test_safe_cell(value, cell):
    from stations.spreadsheet import safe_cell

    assert safe_cell(value) == cell
