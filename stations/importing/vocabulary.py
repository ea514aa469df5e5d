"""The columns and values an import understands, derived from the one vocabulary (``stations.model``).

Headers are recognised in Chinese or English (``名称``/``name``, ``经度``/``lon``...): the field's own
name, its export headers, and the aliases listed here. Values of ``kind``, ``status`` and
``amenities`` are recognised by key, by the model's ``zh``/``en`` labels, and by the synonyms listed
here (``爱心驿站`` -> ``rest_station``, ``饮水`` -> ``drinking_water``). Matching ignores case, spaces,
full-width forms (NFKC) and, for headers, a bracketed unit: ``建筑面积（平方米）`` is ``建筑面积``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from .. import i18n


@dataclass(frozen=True)
class Column:
    """One column of the import/export table: the field it fills and its headers.

    ``field`` is a station property, or ``lon``/``lat``/``lonlat`` (the position), or ``county``
    (adcode or name, checked against the point). ``zh``/``en`` are the export headers; ``aliases``
    other headers read as this column. The template's instructions explain each column
    (``import.column_note.<field>`` in the catalogue).
    """

    field: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    exported: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("id", "编号", "id", ("站点编号", "驿站编号", "站点id", "code", "station_id", "stationid")),
    Column("name", "名称", "name", ("站点名称", "驿站名称", "名字", "站名", "stationname", "title")),
    Column("kind", "类型", "kind", ("类别", "种类", "站点类型", "type", "category")),
    Column("county", "区县", "county", ("县区", "县市区", "所属区县", "区/县", "行政区", "县(市、区)", "county_code", "countycode",
                                      "adcode", "行政区划代码", "district")),
    Column("address", "地址", "address", ("详细地址", "站点地址", "位置", "所在位置", "addr")),
    Column("lon", "经度", "lon", ("东经", "lng", "long", "longitude", "x", "经度(wgs84)", "经度wgs84")),
    Column("lat", "纬度", "lat", ("北纬", "latitude", "y", "纬度(wgs84)", "纬度wgs84")),
    Column("lonlat", "经纬度", "lonlat", ("坐标", "经纬度坐标", "coordinates", "location", "lon,lat"), exported=False),
    Column("phone", "电话", "phone", ("联系电话", "联系方式", "电话号码", "手机", "tel", "telephone")),
    Column("opening_hours", "开放时间", "opening_hours", ("营业时间", "服务时间", "开放时段", "hours", "openinghours")),
    Column("amenities", "设施", "amenities", ("服务设施", "配套设施", "设施设备", "服务项目", "服务内容", "facilities")),
    Column("status", "状态", "status", ("运行状态", "开放状态", "站点状态")),
    Column("host", "主办单位", "host", ("建设单位", "管理单位", "承办单位", "主管单位", "运营单位", "operator")),
    Column("opened_on", "启用日期", "opened_on", ("开放日期", "建成日期", "投用日期", "投入使用日期", "opened")),
    Column("last_verified_on", "最后核实", "last_verified_on", ("核实日期", "最后核实日期", "核实时间", "verified", "lastverified")),
    Column("palace_class", "文化宫等级", "palace_class", ("等级", "palaceclass")),
    Column("floor_area_m2", "建筑面积(平方米)", "floor_area_m2", ("建筑面积", "面积", "floor_area", "floorarea", "area_m2")),
    Column("beds", "床位", "beds", ("床位数", "床位数量")),
    Column("sample", "示例数据", "sample", ("示例", "样例")),
    Column("source", "来源", "source", ("数据来源", "信息来源")),
)
BY_FIELD: dict[str, Column] = {c.field: c for c in COLUMNS}
#: headers read and deliberately not imported (a running number is not a station id)
IGNORED_HEADERS = ("序号", "no", "no.", "#", "行号")
#: the columns an export adds to say what the file is (``stations.exporting``: the same on every row); an
#: import reads past them
METADATA_HEADERS = ("attribution", "license", "data_date")

#: value synonyms beyond the model's keys and labels; every target is a key of the vocabulary
KIND_SYNONYMS = {
    "rest_station": ("户外劳动者驿站", "爱心驿站", "驿站", "户外劳动者服务站", "工会驿站", "职工驿站",
                     "暖心驿站", "户外职工驿站", "劳动者港湾", "rest station"),
    "cultural_palace": ("工人文化宫", "文化宫", "职工文化宫", "workers' cultural palace", "cultural palace"),
    "convalescence_base": ("劳模(职工)疗休养基地", "疗休养基地", "劳模疗休养基地", "职工疗休养基地",
                           "疗养基地", "convalescence base"),
}
STATUS_SYNONYMS = {
    "open": ("开放", "正常", "正常开放", "运营", "运行", "营业", "在用", "启用", "使用中", "open"),
    "temporarily_closed": ("暂停开放", "暂停", "暂停服务", "暂停使用", "临时关闭", "维修中", "暂时关闭"),
    "under_construction": ("在建", "建设中", "施工中", "正在建设"),
    "planned": ("规划中", "规划", "拟建", "计划建设", "筹建"),
    "closed": ("已关闭", "关闭", "停用", "撤销", "已撤销", "已停用", "closed"),
}
AMENITY_SYNONYMS = {
    "drinking_water": ("饮水", "饮用水", "饮水机", "喝水", "免费饮水", "茶水", "water"),
    "hot_water": ("热水", "开水"),
    "seating": ("座椅", "桌椅", "休息座椅", "桌凳", "座位", "休息"),
    "toilet": ("卫生间", "厕所", "洗手间", "公厕", "如厕", "wc"),
    "microwave": ("微波炉", "热饭", "加热饭菜"),
    "refrigerator": ("冰箱", "冰柜"),
    "phone_charging": ("手机充电", "充电宝", "充电插座"),
    "ebike_charging": ("电动车充电", "电瓶车充电", "电动自行车充电", "换电"),
    "first_aid_kit": ("急救药箱", "药箱", "医药箱", "应急药箱", "急救包", "常用药品", "药品"),
    "air_conditioning": ("空调", "冷气"),
    "heating": ("取暖", "暖气", "供暖"),
    "reading_corner": ("阅读角", "书报", "图书角", "书报架", "书屋"),
    "wifi": ("无线网络", "wifi", "wi-fi", "无线上网", "免费wifi"),
    "umbrella": ("爱心雨伞", "雨伞", "借伞"),
    "repair_kit": ("维修工具", "打气筒", "工具箱", "应急工具", "维修"),
}
YES = ("是", "true", "yes", "y", "1", "√", "✓", "对")
NO = ("否", "false", "no", "n", "0", "×", "✗", "不是")


def fold(text: str) -> str:
    """Text as compared: NFKC (full-width to ASCII), lower case, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def _without_unit(text: str) -> str:
    return re.sub(r"\([^)]*\)$", "", text)  # after fold(): full-width brackets are ASCII


def _table(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for word, target in pairs:
        table.setdefault(fold(word), target)
    return table


def _header_pairs():
    for column in COLUMNS:
        for word in (column.field, column.zh, column.en, *column.aliases):
            yield word, column.field
            yield _without_unit(fold(word)), column.field


_HEADERS = _table(_header_pairs())
_IGNORED = {fold(h) for h in IGNORED_HEADERS}
_METADATA = {fold(h) for h in METADATA_HEADERS}


def header_field(header: str) -> str | None:
    """The field a header names (``经度`` -> ``lon``), or None when it is not recognised."""
    key = fold(header)
    return _HEADERS.get(key) or _HEADERS.get(_without_unit(key))


def is_ignored_header(header: str) -> bool:
    """A header read and deliberately not imported (``序号``: a running number)."""
    return fold(header) in _IGNORED


def is_metadata_header(header: str) -> bool:
    """A column an export adds about the file itself (``license``...): not station data."""
    return fold(header) in _METADATA


def vocabulary_labels(vocab: str) -> dict[str, dict[str, str]]:
    """``{key: {"zh": label, "en": label}}`` of a vocabulary (``kind``, ``amenity``, ``status``): the string
    catalogue's labels (``stations.i18n``)."""
    return i18n.vocabulary_labels(vocab)


def _value_table(vocab: str, synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    pairs = []
    for key, labels in vocabulary_labels(vocab).items():
        pairs += [(key, key), (labels["zh"], key), (labels["en"], key)]
        pairs += [(word, key) for word in synonyms.get(key, ())]
    return _table(pairs)


KIND_VALUES = _value_table("kind", KIND_SYNONYMS)
STATUS_VALUES = _value_table("status", STATUS_SYNONYMS)
AMENITY_VALUES = _value_table("amenity", AMENITY_SYNONYMS)


def lookup(table: dict[str, str], text: str) -> str | None:
    """The vocabulary key that ``text`` names in ``table`` (``KIND_VALUES``...), or None."""
    return table.get(fold(text))


def known_headers(lang: str = "zh") -> list[str]:
    """The export headers of every column, for messages."""
    return [c.zh if lang == "zh" else c.en for c in COLUMNS]


def allowed_values(vocab: str, lang: str = "zh") -> str:
    """``户外劳动者驿站 (rest_station)、…``: a vocabulary's values (``kind``, ``amenity``, ``status``) for
    messages and the template."""
    sep = "、" if lang == "zh" else ", "
    return sep.join(f"{labels['zh']} ({key})" if lang == "zh" else key
                    for key, labels in vocabulary_labels(vocab).items())
