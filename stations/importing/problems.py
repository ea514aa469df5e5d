"""What an import reports: one :class:`RowProblem` per problem, with its row as the spreadsheet shows it.

Each problem has a ``code`` (stable, for pages and tests), a ``severity`` (``error``: the row is
rejected; ``warning``: imported, but look at it; ``info``: for the record), the column as headed in the
file, the value, and parameters; :meth:`RowProblem.message` words it in Chinese or English from
:data:`MESSAGES`.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Any

from ..errors import QUOTE_MAX_CHARS, quote_value, shorten

SEVERITIES = ("error", "warning", "info")

#: code -> (Chinese, English); ``{value}`` is the quoted value, other names come from ``params``
MESSAGES: dict[str, tuple[str, str]] = {
    # the file
    "unreadable_file": ("无法读取文件：{reason}", "cannot read the file: {reason}"),
    "unknown_format": ("不支持的文件类型 {value}；可导入 {allowed}", "unsupported file type {value}; allowed: {allowed}"),
    "unknown_encoding": ("无法识别文字编码（已尝试 {tried}）；请另存为 UTF-8 或指定编码",
                         "cannot tell the text encoding (tried {tried}); save as UTF-8 or name the encoding"),
    "unknown_sheet": ("工作表 {value} 不存在；有：{allowed}", "no sheet {value}; the workbook has: {allowed}"),
    "no_header": ("在前 {rows} 行中找不到表头（至少两个可识别的列名，如 名称、经度、纬度）",
                  "no header in the first {rows} rows (at least two known column names, such as name, lon, lat)"),
    "no_rows": ("表中没有数据行", "the table has no data rows"),
    "unknown_header": ("无法识别的列 {value}：其内容不会导入；可识别的列：{allowed}",
                       "column {value} is not recognised: its values are not imported; known columns: {allowed}"),
    "ignored_header": ("列 {value} 是序号，不导入", "column {value} is a running number: not imported"),
    "metadata_header": ("列 {value} 说明导出文件本身（每行相同），不导入",
                        "column {value} describes the exported file (the same on every row): not imported"),
    "duplicate_header": ("列 {value} 与列 {other} 都表示 {field}", "columns {value} and {other} both mean {field}"),
    "missing_column": ("缺少列：{field}", "missing column: {field}"),
    "missing_position_columns": ("没有坐标列（经度、纬度，或“经纬度”）和地址列：只能更新已有站点，不能新增",
                                 "no position columns (lon and lat, or lonlat) and no address column: stations "
                                 "can be updated, not added"),
    # one row
    "example_row": ("模板示例行，已跳过", "the template's example row: skipped"),
    "required": ("必填", "required"),
    "unknown_kind": ("类型 {value} 无法识别；可填：{allowed}", "kind {value} is not recognised; allowed: {allowed}"),
    "unknown_status": ("状态 {value} 无法识别；可填：{allowed}", "status {value} is not recognised; allowed: {allowed}"),
    "unknown_amenity": ("设施 {value} 无法识别；可填：{allowed}", "amenity {value} is not recognised; allowed: {allowed}"),
    "duplicate_amenity": ("设施 {value} 重复", "amenity {value} given twice"),
    "bad_hours": ("开放时间 {value} 无法识别；可写 全天、24小时、8:00-18:00、周一至周五 8:00-18:00 或 OSM 写法 "
                  "Mo-Fr 08:00-18:00", "opening hours {value} are not readable; write e.g. 24小时, 8:00-18:00, "
                  "周一至周五 8:00-18:00, or OSM syntax Mo-Fr 08:00-18:00"),
    "bad_degrees": ("坐标 {value} 无法识别：应为 {reason}", "coordinate {value} is not readable: {reason}"),
    "half_position": ("只有{given}，缺少{missing}", "only the {given} is given, the {missing} is missing"),
    "outside": ("坐标 ({lon}, {lat}) 不在任何区县内（{crs}）", "position ({lon}, {lat}) lies in no county ({crs})"),
    "swapped": ("经纬度疑似颠倒：交换后 ({lon}, {lat}) 位于 {county}；确认后用“修正颠倒的经纬度”（--fix-swapped）导入",
                "latitude and longitude look swapped: ({lon}, {lat}) lies in {county}; import with --fix-swapped "
                "to fix it"),
    "swapped_fixed": ("经纬度颠倒，已交换为 ({lon}, {lat})，位于 {county}",
                      "latitude and longitude were swapped: fixed to ({lon}, {lat}) in {county}"),
    "converted": ("坐标由 {crs} 换算为 WGS-84", "position converted from {crs} to WGS-84"),
    "unknown_county": ("区县 {value} 无法识别；可填：{allowed}", "county {value} is not recognised; allowed: {allowed}"),
    "county_mismatch": ("坐标位于 {found}，而区县列为 {given}", "the position lies in {found}, the county column says "
                        "{given}"),
    "no_position": ("没有坐标，也没有可查找的地址", "no position and no address to look up"),
    "geocoding_off": ("没有坐标；未启用地理编码，地址不能换算为坐标", "no position, and no geocoder to look the address "
                      "up"),
    "geocoded": ("坐标由地址查得（{provider}，精度：{level}）", "position looked up from the address ({provider}, "
                 "level: {level})"),
    "not_geocoded": ("地址 {value} 未找到坐标（{provider}）；请填写坐标", "address {value} not found ({provider}); "
                     "give the position"),
    "geocode_imprecise": ("地址只定位到{level}（{provider}），位置可能偏差较大；请填写坐标或更详细的地址",
                          "the address was only found to the {level} level ({provider}): the point could be far off; "
                          "give the position or a fuller address"),
    "geocode_outside": ("按地址查得的位置 ({lon}, {lat}) 不在 {county} 内（{provider}）",
                        "the looked-up position ({lon}, {lat}) is not in {county} ({provider})"),
    "geocode_failed": ("查找地址失败（{provider}）：{reason}", "address lookup failed ({provider}): {reason}"),
    "geocode_stopped": ("地理编码已停止（{provider}）：{reason}；此行未查找", "geocoding stopped ({provider}): {reason}; "
                        "this row was not looked up"),
    "bad_number": ("{value} 不是数字", "{value} is not a number"),
    "bad_whole": ("{value} 不是整数", "{value} is not a whole number"),
    "bad_date": ("{value} 不是日期（如 2026-01-15）", "{value} is not a date (e.g. 2026-01-15)"),
    "bad_bool": ("{value} 应为 是 或 否", "{value} should be yes or no (是/否)"),
    "duplicate_id": ("编号 {value} 在第 {rows} 行重复", "id {value} appears in rows {rows}"),
    "duplicate_key": ("名称与区县 {value} 在第 {rows} 行重复（没有编号时按名称+区县对应站点）",
                      "name and county {value} appear in rows {rows} (without an id, name + county names the station)"),
    "ambiguous_match": ("名称与区县 {value} 对应多个已有站点：{ids}；请填写编号",
                        "name and county {value} match several stations: {ids}; give the id"),
    "invalid": ("{reason}", "{reason}"),
    "county_not_allowed": ("此站点在 {county}；您只能导入 {allowed} 的站点", "this station is in {county}; you may "
                           "import stations of {allowed} only"),
    "kept_rejected": ("此行有错误，对应的已有站点 {value} 保持不变", "the row has errors: its station {value} stays as it is"),
}


#: parameters that come from the vocabulary, not from the file: shown whole (the allowed values)
WHOLE_PARAMS = ("allowed",)


@dataclass(frozen=True)
class RowProblem:
    """One problem of an import: ``row`` as the spreadsheet shows it (``None``: the whole file),
    ``column`` as headed in the file, ``field`` the station field, the ``value`` as read."""

    code: str
    severity: str = "error"
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: Any = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.code, self.row, self.column, self.field))

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def message(self, lang: str = "zh") -> str:
        """The problem in words (``zh`` or ``en``), values quoted briefly."""
        zh, en = MESSAGES[self.code]
        values = {k: v if k in WHOLE_PARAMS or not isinstance(v, str) else shorten(v) for k, v in self.params.items()}
        return (zh if lang == "zh" else en).format(value=quote_value(self.value, QUOTE_MAX_CHARS // 2), **values)

    def where(self, lang: str = "zh") -> str:
        """``第 5 行，经度`` / ``row 5, lon``; ``文件`` / ``file`` for the whole file."""
        if lang == "zh":
            place = "文件" if self.row is None else f"第 {self.row} 行"
            return f"{place}，{self.column}" if self.column else place
        place = "file" if self.row is None else f"row {self.row}"
        return f"{place}, {self.column}" if self.column else place

    def text(self, lang: str = "zh") -> str:
        return f"{self.where(lang)}：{self.message(lang)}" if lang == "zh" else f"{self.where(lang)}: {self.message(lang)}"

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready: code, severity, row, column, field, value (cut when long), message."""
        value = self.value
        if isinstance(value, str) and len(value) > QUOTE_MAX_CHARS:
            value = value[:QUOTE_MAX_CHARS] + "…"
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = quote_value(value)
        return {"code": self.code, "severity": self.severity, "row": self.row, "column": self.column,
                "field": self.field, "value": value, "message": self.message(lang)}
