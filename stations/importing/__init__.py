"""Union staff's station lists in and out: XLSX, CSV, GeoJSON (and GeoPackage/Shapefile) with Chinese or
English headers, validated row by row, matched to the stored stations, written as one revertible change.

The same calls serve the command line (``yizhan import``) and an upload page:

1. ``table = read_table(upload, filename=..., sheet=None, encoding=None)`` (``ImportFileError``: the
   file cannot be read; its ``row_problems`` say why).
2. ``plan = plan_import(table, store, counties, ImportOptions(crs=..., mode=..., skip_bad=...,
   fix_swapped=...), geocoding=service)``: the dry run. Nothing is written. ``plan.to_dict(lang)`` is
   its JSON (counts, problems by row, the stations added / changed / unchanged / removed with their
   positions, ``can_apply``, ``digest``); ``report_text(plan)`` the same in words;
   ``report_bytes(plan, "xlsx" | "csv")`` the downloadable report (the file's rows with a column of
   problems).
3. ``apply_import(plan, store, who, expected_digest=plan_shown.digest)``: writes it, all or nothing,
   as one ``import`` journal entry (``store.revert(entry)`` undoes it as a whole). A page plans again on
   confirm (the geocoder's cache answers) and passes the digest it showed: anything different is refused.

``export_stations(stations, counties, "xlsx" | "csv")`` writes the columns the import reads (an
export imported again changes nothing); ``template(counties)`` is the empty workbook to fill in.
"""
from .apply import ImportRefused, ImportResult, apply_import, default_note
from .export import export_stations, template
from .plan import ImportOptions, ImportPlan, PlannedStation, RowOutcome, plan_import
from .problems import CODES, RowProblem
from .readers import ImportFileError, Table, read_table
from .report import report_bytes, report_rows, report_text, save_report

__all__ = [
    "CODES", "ImportFileError", "ImportOptions", "ImportPlan", "ImportRefused", "ImportResult",
    "PlannedStation", "RowOutcome", "RowProblem", "Table", "apply_import", "default_note", "export_stations",
    "plan_import", "read_table", "report_bytes", "report_rows", "report_text", "save_report", "template",
]
