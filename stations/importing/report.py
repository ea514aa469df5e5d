"""The import's report: as text (the command line, a log) and as a downloadable XLSX or CSV.

The downloadable report is the file's own rows, in their order and with their row numbers, plus three
columns: the result (新增/修改/未变/拒绝/跳过), the station id, and every problem of the row (errors,
warnings and notes, each with its column). Problems of the whole file come first (XLSX: their own
sheet). Every cell goes through ``stations.spreadsheet`` (no text ever runs as a formula).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..spreadsheet import append_row, safe_row
from .plan import ImportPlan
from .readers import cell_text

RESULT_WORDS = {
    "zh": {"add": "新增", "change": "修改", "unchanged": "未变", "rejected": "拒绝", "skipped": "跳过",
           "remove": "删除", "keep": "保留"},
    "en": {"add": "added", "change": "changed", "unchanged": "unchanged", "rejected": "rejected",
           "skipped": "skipped", "remove": "removed", "keep": "kept"},
}
EXTRA_HEADERS = {"zh": ("行号", "结果", "编号（导入后）", "问题"), "en": ("row", "result", "id (after import)", "problems")}
SEVERITY_WORDS = {"zh": {"error": "错误", "warning": "注意", "info": "说明"},
                  "en": {"error": "error", "warning": "warning", "info": "note"}}
REPORT_FORMATS = ("xlsx", "csv")


def _problem_text(problem, lang: str) -> str:
    column = f"{problem.column}：" if problem.column and lang == "zh" else f"{problem.column}: " if problem.column else ""
    return f"[{SEVERITY_WORDS[lang][problem.severity]}] {column}{problem.message(lang)}"


def report_rows(plan: ImportPlan, lang: str = "zh") -> tuple[list[str], list[list[Any]]]:
    """(headers, rows) of the downloadable report: the file's columns between the row number and the
    result, id and problems columns."""
    row_h, result_h, id_h, problems_h = EXTRA_HEADERS[lang]
    head = [row_h, *plan.table.headers, result_h, id_h, problems_h]
    outcomes = {r.number: r for r in plan.rows}
    sep = "；" if lang == "zh" else "; "
    rows: list[list[Any]] = []
    for problem in plan.file_problems:
        rows.append([None] * (len(head) - 1) + [_problem_text(problem, lang)])
    for source in plan.table.rows:
        outcome = outcomes.get(source.number)
        action = RESULT_WORDS[lang].get(outcome.action, outcome.action) if outcome else ""
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
    sheet.title = "导入报告" if lang == "zh" else "import report"
    for cell in append_row(sheet, head):
        cell.font = Font(bold=True)
    bad = PatternFill("solid", fgColor="F8CBAD")
    for row in rows:
        cells = append_row(sheet, row)
        if row[-3] == RESULT_WORDS[lang]["rejected"] or (row[0] is None and row[-1]):
            for cell in cells:
                cell.fill = bad
    sheet.freeze_panes = "B2"
    others = [s for s in plan.stations if s.action in ("remove", "keep") and s.row is None]
    if others:
        extra = book.create_sheet("未在表中的站点" if lang == "zh" else "stations not in the file")
        append_row(extra, ["编号", "名称", "结果"] if lang == "zh" else ["id", "name", "result"])
        for s in others:
            append_row(extra, [s.station_id, (s.before or s.after).name, RESULT_WORDS[lang][s.action]])
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
    zh = lang == "zh"
    t = plan.table
    c = plan.counts()
    lines = []
    where = [f"工作表 {t.sheet}" if zh else f"sheet {t.sheet}"] if t.sheet else []
    where += [f"编码 {t.encoding}" if zh else f"encoding {t.encoding}"] if t.encoding else []
    opts = plan.options
    lines.append((f"导入 {t.source}" if zh else f"import {t.source}") + (f"（{'，'.join(where)}）" if zh and where else
                                                                          f" ({', '.join(where)})" if where else "")
                 + (f"：模式 {opts.mode}，坐标系 {opts.crs}" if zh else f": mode {opts.mode}, crs {opts.crs}"))
    if zh:
        lines.append(f"共 {c['rows']} 行：新增 {c['added']}，修改 {c['changed']}，未变 {c['unchanged']}，删除 {c['removed']}，"
                     f"保留 {c['kept']}，拒绝 {c['rejected']} 行，跳过 {c['skipped']} 行")
    else:
        lines.append(f"{c['rows']} rows: {c['added']} added, {c['changed']} changed, {c['unchanged']} unchanged, "
                     f"{c['removed']} removed, {c['kept']} kept, {c['rejected']} rows rejected, {c['skipped']} skipped")
    geo = plan.geocoding
    if geo.get("rows"):
        lines.append((f"地理编码（{geo.get('provider') or '未启用'}）：{geo['rows']} 行，找到 {geo.get('found', 0)}，"
                      f"查询 {geo.get('asked', 0)} 次，缓存 {geo.get('cached', 0)} 次") if zh else
                     (f"geocoding ({geo.get('provider') or 'off'}): {geo['rows']} rows, {geo.get('found', 0)} found, "
                      f"{geo.get('asked', 0)} asked, {geo.get('cached', 0)} from the cache"))
    problems = plan.problems
    if problems:
        lines.append("问题：" if zh else "problems:")
        lines += [f"  [{SEVERITY_WORDS[lang][p.severity]}] {p.text(lang)}" for p in problems]

    def listing(title: str, items: list, describe) -> None:
        if not items:
            return
        lines.append(title)
        shown = items if max_items is None else items[:max_items]
        lines.extend("  " + describe(s) for s in shown)
        if len(shown) < len(items):
            lines.append(f"  … 另有 {len(items) - len(shown)} 个" if zh else f"  … and {len(items) - len(shown)} more")

    row_of = (lambda s: f"（第 {s.row} 行）" if s.row else "") if zh else (lambda s: f" (row {s.row})" if s.row else "")
    listing("新增：" if zh else "added:", plan.added, lambda s: f"{s.station_id} {s.after.name}{row_of(s)}")
    listing("修改：" if zh else "changed:", plan.changed,
            lambda s: f"{s.station_id} {s.after.name}{row_of(s)}{'：' if zh else ': '}{', '.join(s.fields)}")
    listing("删除：" if zh else "removed:", plan.removed, lambda s: f"{s.station_id} {s.before.name}")
    if not plan.file_ok:
        lines.append("未导入：文件有错误，见上。" if zh else "nothing imported: the file has errors, see above.")
    elif plan.rejected and not opts.skip_bad:
        lines.append(f"未导入：有 {len(plan.rejected)} 行被拒绝；改正后重新导入，或只导入无误的行（--skip-bad）。" if zh else
                     f"nothing imported: {len(plan.rejected)} rows rejected; correct them and import again, or import "
                     "the good rows only (--skip-bad).")
    return "\n".join(lines)
