"""The one vocabulary of Yizhan: station kinds, amenities, statuses, and the Station record.

Positions are WGS-84 (lon, lat) everywhere in this package.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

# The vocabulary's keys, and what is not language. Their labels, in Chinese and English, are in the
# catalogue (``stations/locale``, ``kind.rest_station``...), read by ``stations.i18n.label``.
# Add a key here and its label to both catalogues to extend the vocabulary.

# kind -> id prefix
KINDS: dict[str, dict[str, str]] = {
    "rest_station": {"prefix": "RS"},
    "cultural_palace": {"prefix": "CP"},
    "convalescence_base": {"prefix": "CB"},
}

# amenity -> pictogram (a character; the pages draw the SVG symbol of the same name)
AMENITIES: dict[str, dict[str, str]] = {
    "drinking_water": {"icon": "💧"},
    "hot_water": {"icon": "♨"},
    "seating": {"icon": "🪑"},
    "toilet": {"icon": "🚻"},
    "microwave": {"icon": "🍱"},
    "refrigerator": {"icon": "🧊"},
    "phone_charging": {"icon": "🔌"},
    "ebike_charging": {"icon": "🛵"},
    "first_aid_kit": {"icon": "⛑"},
    "air_conditioning": {"icon": "❄"},
    "heating": {"icon": "🔥"},
    "reading_corner": {"icon": "📚"},
    "wifi": {"icon": "📶"},
    "umbrella": {"icon": "☂"},
    "repair_kit": {"icon": "🔧"},
}

STATUSES: tuple[str, ...] = ("open", "temporarily_closed", "under_construction", "planned", "closed")

PALACE_CLASSES = (1, 2, 3)

# Property order in the stored GeoJSON: stable, so that a change is a small git diff.
PROPERTY_ORDER = (
    "id", "name", "kind", "county_code", "address", "phone", "opening_hours", "amenities",
    "host", "status", "status_reason", "reopens_on", "opened_on", "last_verified_on", "palace_class",
    "floor_area_m2", "beds", "sample", "source",
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
    status_reason: str | None = None  # why it is not open (temporarily closed, closed...)
    reopens_on: str | None = None  # YYYY-MM-DD: when a temporarily closed station opens again
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
