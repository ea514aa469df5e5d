"""Station files for other programs: GeoJSON, CSV, XLSX, KML, GeoPackage and zipped Shapefile.

One writer per format; :func:`export_stations` picks one by name (``FORMATS``). Used by
``/api/stations?format=`` and ``yizhan export --format``. CSV and XLSX are the station import's own
round-trip table (``stations.importing.export``: Chinese headers and labels by default, English headers
and keys with ``lang="en"``; an export edited in Excel imports again), so there is one writer of them.
Positions are WGS-84 longitude/latitude degrees in every format (GeoJSON and KML by definition; the
GeoPackage and the Shapefile say EPSG:4326 in their CRS; CSV and XLSX have 经度/lon and 纬度/lat columns).

What travels inside every file (:class:`ExportInfo`): the title, the attribution, the licence, the
data's date (the newest ``last_verified_on`` of the stations written), when the file was written,
and, while any station is sample data, the word sample (``示例数据 sample data``):

- GeoJSON: foreign members of the FeatureCollection (``title``, ``attribution``, ``license``,
  ``data_date``, ``exported_at``, ``sample``, ``notice``).
- CSV: the header stays the first row, so that GDAL, pandas, Excel and the station import read the
  file as one table; the metadata are three constant columns at the end of every row
  (``attribution``, ``license``, ``data_date``, which the import reads past), beside the per-station
  ``sample`` (示例数据) and ``source`` columns. A comment or metadata row above the header would break
  those readers.
- XLSX: the first sheet is the table (the CSV's station columns); a second sheet ``说明 README`` holds
  the metadata.
- KML: the ``<Document>``'s ``<name>``, ``<description>`` and ``<ExtendedData>``.
- GeoPackage: the layer's description (``gpkg_contents.description``, shown by QGIS) and the
  layer's metadata (``gpkg_metadata``).
- Shapefile (a zip): ``README.txt`` beside the ``.shp``, with the metadata and the field names,
  and a ``.cpg`` that says UTF-8 so that Chinese text reads back intact.

Spreadsheet safety: every CSV and XLSX cell goes through ``stations.spreadsheet`` (a text starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``). The other formats
carry text as it is.

Shapefile field names have at most 10 characters: :data:`SHAPEFILE_FIELDS` maps the long ones
(``county_code`` -> ``county``, ``opening_hours`` -> ``hours``, ``last_verified_on`` ->
``verified``, ``palace_class`` -> ``palace_cls``, ``floor_area_m2`` -> ``floor_m2``); a ``.dbf``
text field holds at most 254 bytes (84 Chinese characters).
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Sequence
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from .model import COORD_DECIMALS, Station

TZ = ZoneInfo("Asia/Shanghai")
SAMPLE_WORDS = "示例数据 sample data"
DEFAULT_LICENSE = "CC-BY-4.0"
DEFAULT_ATTRIBUTION = "驿站地图 (Yizhan)"
#: the layer name in the GeoPackage and the file name stem in the Shapefile zip
LAYER = "stations"
#: what the GeoPackage and the Shapefile say their CRS is (WGS-84, longitude/latitude degrees)
FILE_CRS = "EPSG:4326"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str
    title: str


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("geojson", "application/geo+json", "geojson", "GeoJSON (RFC 7946, WGS-84)"),
    ExportFormat("csv", "text/csv; charset=utf-8", "csv", "CSV, UTF-8 with BOM (Excel, WPS)"),
    ExportFormat("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx",
                 "Excel workbook"),
    ExportFormat("kml", "application/vnd.google-earth.kml+xml", "kml", "KML (Google Earth, 奥维地图)"),
    ExportFormat("gpkg", "application/geopackage+sqlite3", "gpkg", "GeoPackage (QGIS, ArcGIS)"),
    ExportFormat("shp", "application/zip", "zip", "zipped Shapefile, UTF-8 (.cpg)"),
)}

#: the properties of the GeoPackage, Shapefile and KML, in order (lon/lat are the geometry)
TABLE_COLUMNS = (
    "id", "name", "kind", "county_code", "address", "lon", "lat", "phone", "opening_hours", "amenities",
    "host", "status", "opened_on", "last_verified_on", "palace_class", "floor_area_m2", "beds", "sample",
    "source",
)
#: the constant columns of a CSV export, after the station columns (``stations.importing`` reads past them)
METADATA_COLUMNS = ("attribution", "license", "data_date")
#: property -> Shapefile field name (10 characters at most); the others keep their names
SHAPEFILE_FIELDS = {
    "county_code": "county", "opening_hours": "hours", "last_verified_on": "verified",
    "palace_class": "palace_cls", "floor_area_m2": "floor_m2",
}
#: amenities are one text in the table formats, the keys separated by this
LIST_SEPARATOR = ","


@dataclass(frozen=True)
class ExportInfo:
    """What every exported file says about its data (see the module doc)."""

    title: str
    attribution: str
    license: str
    data_date: str | None
    exported_at: str
    sample: bool
    source_url: str | None = None

    @classmethod
    def of(cls, stations: Iterable[Station], *, title: str, attribution: str = DEFAULT_ATTRIBUTION,
           license: str = DEFAULT_LICENSE, source_url: str | None = None,
           now: datetime | None = None) -> "ExportInfo":
        """The info of a file of ``stations``: ``data_date`` is their newest ``last_verified_on``
        (``None`` when none has one), ``sample`` whether any of them is sample data."""
        items = list(stations)
        dates = [s.last_verified_on for s in items if s.last_verified_on]
        moment = (now or datetime.now(TZ)).astimezone(TZ).replace(microsecond=0)
        return cls(title=title, attribution=attribution, license=license, data_date=max(dates) if dates else None,
                   exported_at=moment.isoformat(), sample=any(s.sample for s in items), source_url=source_url)

    @property
    def notice(self) -> str:
        """One line: the sample warning (if any), attribution, licence and dates."""
        parts = [f"{SAMPLE_WORDS}: not real stations / 非真实站点"] if self.sample else []
        parts += [f"© {self.attribution}", f"licence: {self.license}",
                  f"data as of {self.data_date or 'unknown'}", f"exported {self.exported_at}"]
        if self.source_url:
            parts.append(f"source: {self.source_url}")
        return "; ".join(parts)

    def items(self) -> list[tuple[str, str]]:
        """(key, text) pairs for a metadata table, README or ExtendedData."""
        rows = [("title", self.title), ("attribution", self.attribution), ("license", self.license),
                ("data_date", self.data_date or ""), ("exported_at", self.exported_at),
                ("sample", f"true ({SAMPLE_WORDS}: not real stations / 非真实站点)" if self.sample else "false")]
        if self.source_url:
            rows.append(("source_url", self.source_url))
        return rows

    def columns(self) -> list[tuple[str, str]]:
        """(header, value) of the constant metadata columns of a CSV (:data:`METADATA_COLUMNS`)."""
        return list(zip(METADATA_COLUMNS, (self.attribution, self.license, self.data_date or "")))

    def members(self) -> dict[str, Any]:
        """Foreign members for a GeoJSON FeatureCollection."""
        out: dict[str, Any] = {"title": self.title, "attribution": self.attribution, "license": self.license,
                               "data_date": self.data_date, "exported_at": self.exported_at, "sample": self.sample,
                               "notice": self.notice}
        if self.source_url:
            out["source_url"] = self.source_url
        return out


def export_stations(stations: Sequence[Station], fmt: str, info: ExportInfo, *, counties=None,
                    lang: str = "zh") -> bytes:
    """The file of ``stations`` in format ``fmt`` (a key of :data:`FORMATS`), as bytes.

    ``counties`` and ``lang`` shape the CSV and XLSX table (county names, Chinese or English headers and
    values); the other formats carry the stored keys and adcodes.
    """
    if fmt in ("csv", "xlsx"):
        return to_table(stations, info, fmt, counties, lang)
    writers = {"geojson": to_geojson_bytes, "kml": to_kml, "gpkg": to_gpkg, "shp": to_shapefile_zip}
    if fmt not in writers:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return writers[fmt](stations, info)


def filename(fmt: str, stem: str = "yizhan-stations") -> str:
    """The download's file name: ``yizhan-stations.csv``, ``yizhan-stations.zip`` (ASCII)."""
    return f"{stem}.{FORMATS[fmt].extension}"


# ---- rows -----------------------------------------------------------------------------------

def _position(station: Station) -> tuple[float, float]:
    return round(station.lon, COORD_DECIMALS), round(station.lat, COORD_DECIMALS)


def station_row(station: Station) -> dict[str, Any]:
    """The station as one flat row of :data:`TABLE_COLUMNS` (amenities joined; ``None`` where not given)."""
    lon, lat = _position(station)
    row: dict[str, Any] = {}
    for key in TABLE_COLUMNS:
        if key == "lon":
            row[key] = lon
        elif key == "lat":
            row[key] = lat
        elif key == "amenities":
            row[key] = LIST_SEPARATOR.join(station.amenities)
        else:
            row[key] = getattr(station, key)
    return row


def _cell_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# ---- GeoJSON --------------------------------------------------------------------------------

def to_geojson(stations: Iterable[Station], info: ExportInfo) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection with the info as foreign members (never a ``crs`` member)."""
    return {"type": "FeatureCollection", **info.members(), "features": [s.to_feature() for s in stations]}


def to_geojson_bytes(stations: Sequence[Station], info: ExportInfo) -> bytes:
    import json
    return json.dumps(to_geojson(stations, info), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# ---- CSV and XLSX ---------------------------------------------------------------------------

def to_table(stations: Sequence[Station], info: ExportInfo, fmt: str, counties=None, lang: str = "zh") -> bytes:
    """CSV (UTF-8 with BOM) or XLSX: the import's round-trip table with the info inside (see the module doc)."""
    from .importing.export import export_stations as round_trip
    return round_trip(stations, counties, fmt, lang, info=info)


# ---- KML ------------------------------------------------------------------------------------

KML_NS = "http://www.opengis.net/kml/2.2"


def _kml_type(key: str) -> str:
    return {"lon": "double", "lat": "double", "floor_area_m2": "double", "palace_class": "int", "beds": "int",
            "sample": "bool"}.get(key, "string")


def to_kml(stations: Sequence[Station], info: ExportInfo) -> bytes:
    """KML 2.2: one Placemark per station (name, address as description, every property as SchemaData)."""
    ET.register_namespace("", KML_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{KML_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = sub(root, "Document", id=LAYER)
    sub(doc, "name", info.title + (f" ({SAMPLE_WORDS})" if info.sample else ""))
    sub(doc, "description", info.notice)
    extended = sub(doc, "ExtendedData")
    for key, text in info.items():
        data = sub(extended, "Data", name=key)
        sub(data, "value", text)
    fields = [k for k in TABLE_COLUMNS if k not in ("lon", "lat")]
    schema = sub(doc, "Schema", name=LAYER, id=LAYER)
    for key in fields:
        sub(schema, "SimpleField", name=key, type=_kml_type(key))
    folder = sub(doc, "Folder")
    sub(folder, "name", LAYER)
    for station in stations:
        row = station_row(station)
        mark = sub(folder, "Placemark", id=station.id)
        sub(mark, "name", station.name)
        if station.address:
            sub(mark, "description", station.address)
        data = sub(sub(mark, "ExtendedData"), "SchemaData", schemaUrl=f"#{LAYER}")
        for key in fields:
            if row[key] is not None and row[key] != "":
                sub(data, "SimpleData", str(_cell_text(row[key])), name=key)
        lon, lat = _position(station)
        sub(sub(mark, "Point"), "coordinates", f"{lon!r},{lat!r}")  # KML order: lon,lat
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# ---- GeoPackage and Shapefile (through geopandas and pyogrio) --------------------------------

def _frame(stations: Sequence[Station], rename: dict[str, str] | None = None):
    """A GeoDataFrame of the stations' table columns (without lon/lat: they are the geometry)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    rows = [station_row(s) for s in stations]
    columns: dict[str, Any] = {}
    for key in TABLE_COLUMNS:
        if key in ("lon", "lat"):
            continue
        values = [r[key] for r in rows]
        if key in ("palace_class", "beds"):
            columns[key] = pd.array(values, dtype="Int64")
        elif key == "floor_area_m2":
            columns[key] = pd.array([None if v is None else float(v) for v in values], dtype="Float64")
        elif key == "sample":
            columns[key] = pd.array(values, dtype="bool")
        else:
            columns[key] = pd.array(values, dtype=object)
    frame = pd.DataFrame(columns)
    if rename:
        frame = frame.rename(columns=rename)
    points = shapely.points([r["lon"] for r in rows], [r["lat"] for r in rows]) if rows else []
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs=FILE_CRS), crs=FILE_CRS)


def to_gpkg(stations: Sequence[Station], info: ExportInfo) -> bytes:
    """A GeoPackage with one point layer ``stations`` (EPSG:4326); the info in its description and metadata."""
    frame = _frame(stations)
    with tempfile.TemporaryDirectory(prefix="yizhan-export-") as folder:
        path = Path(folder) / f"{LAYER}.gpkg"
        frame.to_file(path, layer=LAYER, driver="GPKG", engine="pyogrio",
                      layer_options={"DESCRIPTION": info.notice, "IDENTIFIER": info.title},
                      layer_metadata=dict(info.items()))
        return path.read_bytes()


def shapefile_readme(info: ExportInfo) -> str:
    """README.txt of the Shapefile zip: the info, the encoding and the field names."""
    lines = [info.title, "=" * 40, ""]
    lines += [f"{key}: {text}" for key, text in info.items()]
    lines += ["", "Encoding: UTF-8 (stations.cpg). 编码：UTF-8。",
              "CRS: WGS-84 longitude/latitude degrees (EPSG:4326, stations.prj).", "",
              "Fields (a .dbf field name has at most 10 characters; a text at most 254 bytes):"]
    for key in TABLE_COLUMNS:
        if key in ("lon", "lat"):
            continue
        short = SHAPEFILE_FIELDS.get(key, key)
        lines.append(f"  {short:<10} {key}" + (" (keys separated by commas)" if key == "amenities" else ""))
    return "\r\n".join(lines) + "\r\n"


def to_shapefile_zip(stations: Sequence[Station], info: ExportInfo) -> bytes:
    """A zip of ``stations.shp/.shx/.dbf/.prj/.cpg`` (UTF-8) and ``README.txt``."""
    frame = _frame(stations, rename=SHAPEFILE_FIELDS)
    with tempfile.TemporaryDirectory(prefix="yizhan-export-") as folder:
        path = Path(folder) / f"{LAYER}.shp"
        frame.to_file(path, driver="ESRI Shapefile", engine="pyogrio", layer_options={"ENCODING": "UTF-8"})
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(folder).iterdir()):
                archive.write(part, part.name)
            archive.writestr("README.txt", shapefile_readme(info).encode("utf-8"))
        return buf.getvalue()
