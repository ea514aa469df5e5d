"""The one vocabulary of Yizhan: station kinds, amenities, statuses, and the Station record.

Positions are WGS-84 (lon, lat) everywhere in this package.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

# kind -> labels and id prefix. Add a kind here (and nowhere else) to extend the vocabulary.
KINDS: dict[str, dict[str, str]] = {
    "rest_station": {"zh": "户外劳动者驿站", "en": "Outdoor workers' rest station", "prefix": "RS"},
    "cultural_palace": {"zh": "工人文化宫", "en": "Workers' cultural palace", "prefix": "CP"},
    "convalescence_base": {
        "zh": "劳模(职工)疗休养基地",
        "en": "Convalescence base for model workers",
        "prefix": "CB",
    },
}

AMENITIES: dict[str, dict[str, str]] = {
    "drinking_water": {"zh": "饮用水", "en": "Drinking water", "icon": "💧"},
    "hot_water": {"zh": "热水", "en": "Hot water", "icon": "♨"},
    "seating": {"zh": "座椅", "en": "Seating", "icon": "🪑"},
    "toilet": {"zh": "卫生间", "en": "Toilet", "icon": "🚻"},
    "microwave": {"zh": "微波炉", "en": "Microwave", "icon": "🍱"},
    "refrigerator": {"zh": "冰箱", "en": "Refrigerator", "icon": "🧊"},
    "phone_charging": {"zh": "手机充电", "en": "Phone charging", "icon": "🔌"},
    "ebike_charging": {"zh": "电动车充电", "en": "E-bike charging", "icon": "🛵"},
    "first_aid_kit": {"zh": "急救药箱", "en": "First-aid kit", "icon": "⛑"},
    "air_conditioning": {"zh": "空调", "en": "Air conditioning", "icon": "❄"},
    "heating": {"zh": "取暖", "en": "Heating", "icon": "🔥"},
    "reading_corner": {"zh": "阅读角", "en": "Reading corner", "icon": "📚"},
    "wifi": {"zh": "无线网络", "en": "Wi-Fi", "icon": "📶"},
    "umbrella": {"zh": "爱心雨伞", "en": "Umbrella", "icon": "☂"},
    "repair_kit": {"zh": "维修工具", "en": "Repair kit", "icon": "🔧"},
}

STATUSES: dict[str, dict[str, str]] = {
    "open": {"zh": "开放", "en": "Open"},
    "temporarily_closed": {"zh": "暂停开放", "en": "Temporarily closed"},
    "under_construction": {"zh": "在建", "en": "Under construction"},
    "planned": {"zh": "规划中", "en": "Planned"},
    "closed": {"zh": "已关闭", "en": "Closed"},
}

PALACE_CLASSES = (1, 2, 3)

# Property order in the stored GeoJSON: stable, so that a change is a small git diff.
PROPERTY_ORDER = (
    "id", "name", "kind", "county_code", "address", "phone", "opening_hours", "amenities",
    "host", "status", "opened_on", "last_verified_on", "palace_class", "floor_area_m2",
    "beds", "sample", "source",
)

COORD_DECIMALS = 7  # about 1 cm; RFC 7946 recommends no more precision than needed

PHONE_EXTENSION_MARK = "转"  # "0537-2345678转123": extension 123 (see validate.PHONE_PATTERN)


def phone_parts(phone: str) -> tuple[str, str | None]:
    """Split a phone text into (main number, extension or None): ``"0537-2345678转123"`` gives
    ``("0537-2345678", "123")``. The page script's ``phoneParts`` does the same."""
    main, _, ext = phone.partition(PHONE_EXTENSION_MARK)
    return main.strip(), ext.strip() or None


@dataclass(frozen=True)
class Station:
    """One site. ``lon``/``lat`` are WGS-84 degrees."""

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    county_code: str | None = None
    address: str | None = None
    phone: str | None = None
    opening_hours: str | None = None
    amenities: tuple[str, ...] = ()
    host: str | None = None
    status: str = "open"
    opened_on: str | None = None
    last_verified_on: str | None = None
    palace_class: int | None = None
    floor_area_m2: float | None = None
    beds: int | None = None
    sample: bool = False
    source: str | None = None

    @classmethod
    def from_feature(cls, feature: Mapping[str, Any]) -> "Station":
        """Build from a GeoJSON Feature; the feature must already be valid (see ``validate``).

        Validation refuses properties outside the vocabulary, so every property is a field here.
        """
        props = feature.get("properties") or {}
        lon, lat = feature["geometry"]["coordinates"][:2]  # GeoJSON order is (lon, lat)
        known = {f.name for f in fields(cls)} - {"lon", "lat"}
        kwargs = {k: v for k, v in props.items() if k in known and v is not None}  # null: not given
        kwargs["amenities"] = tuple(kwargs.get("amenities") or ())
        for key in ("palace_class", "beds"):  # JSON Schema integers may be written 12.0
            if isinstance(kwargs.get(key), float):
                kwargs[key] = int(kwargs[key])
        return cls(lon=float(lon), lat=float(lat), **kwargs)

    def to_properties(self) -> dict[str, Any]:
        """Properties in the stable order; ``None`` values are left out."""
        props: dict[str, Any] = {}
        for key in PROPERTY_ORDER:
            value = getattr(self, key)
            if key == "amenities":
                value = list(value)
            if value is None:
                continue
            props[key] = value
        return props

    def to_feature(self) -> dict[str, Any]:
        """A GeoJSON Feature with WGS-84 (lon, lat) rounded to ``COORD_DECIMALS``."""
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": {
                "type": "Point",
                "coordinates": [round(self.lon, COORD_DECIMALS), round(self.lat, COORD_DECIMALS)],
            },
            "properties": self.to_properties(),
        }

    @property
    def kind_zh(self) -> str:
        return KINDS.get(self.kind, {}).get("zh", self.kind)
