"""folium map builders: basemaps, the county outlines, the drawing CRS, and map-app links.

folium builds only the map's skeleton (the ``L.map`` with its options, tile layers, the first fit)
from numbers and operator settings. Data (station names, county names and outlines) never go
through folium: with branca 0.8, ``MacroElement.render`` compiles each rendered script a second
time as a non-sandboxed Jinja template, so any text in a folium element is template source (a
name ``{{ 7*7 }}`` would show as 49, and worse). Pages put their data into a
``<script type="application/json">`` block (``web.templating.page_json``) that their own script draws;
:func:`render_map` refuses any other folium element and any setting that could be template source.

Every position in ``stations`` is WGS-84. OpenStreetMap and Tianditu tiles are drawn in WGS-84
(Tianditu's CGCS2000 is within about 1 m of it); AMap/Gaode tiles are in GCJ-02, so with
``BASEMAP=amap`` every marker and outline is converted to GCJ-02 on the way out
(:func:`to_display`), and the page script converts the phone's WGS-84 position the same way.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

import folium
import numpy as np
from branca.element import Element, Figure
import shapely
from shapely.geometry import mapping

from stations.coords import transform_geometry, wgs84_to_gcj02

from .assets import use_local_assets
from .settings import TEMPLATE_MARKERS

log = logging.getLogger(__name__)

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)

# name -> (drawing CRS, [tile layer specs]); "{key}" is filled from TIANDITU_KEY.
BASEMAPS: dict[str, dict[str, Any]] = {
    "osm": {
        "crs": "wgs84",
        "layers": [{
            "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "attribution": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
            "subdomains": "abc", "max_zoom": 19,
        }],
    },
    "tianditu": {
        "crs": "wgs84",
        "layers": [
            {"url": _TIANDITU.replace("{layer}", "vec"), "subdomains": "01234567", "max_zoom": 18,
             "attribution": '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a>'},
            {"url": _TIANDITU.replace("{layer}", "cva"), "subdomains": "01234567", "max_zoom": 18,
             "attribution": ""},
        ],
    },
    "amap": {
        "crs": "gcj02",
        "layers": [{
            "url": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "attribution": "&copy; 高德地图 AutoNavi",
            "subdomains": "1234", "max_zoom": 18,
        }],
    },
    "none": {"crs": "wgs84", "layers": []},
}

COUNTY_SIMPLIFY_DEG = 0.001  # about 100 m: outlines for orientation only, kept light


def basemap_name(config: Mapping[str, Any]) -> str:
    """The ``BASEMAP`` setting (one of :data:`BASEMAPS`, checked by ``web.settings``)."""
    return config["BASEMAP"]


def template_markers_in(text: str) -> list[str]:
    """The Jinja delimiters (``{{``, ``{%``, ``{#``) that occur in ``text``."""
    return [m for m in TEMPLATE_MARKERS if m in text]


def display_crs(config: Mapping[str, Any]) -> str:
    """The CRS markers are drawn in: "gcj02" for AMap tiles, else "wgs84"."""
    return BASEMAPS[basemap_name(config)]["crs"]


def to_display(lons, lats, crs: str):
    """WGS-84 (lons, lats) -> the drawing CRS. Floats or numpy arrays, as ``stations.coords``."""
    if crs == "gcj02":
        return wgs84_to_gcj02(lons, lats)
    if crs != "wgs84":
        raise ValueError(f"unknown drawing CRS {crs!r}; allowed: wgs84, gcj02")
    return lons, lats


def tile_layers(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Tile layer specs for the configured basemap; ``TILE_URL`` replaces every layer's URL."""
    name = basemap_name(config)
    layers = [dict(layer) for layer in BASEMAPS[name]["layers"]]
    if name == "tianditu":
        key = config["TIANDITU_KEY"]
        if not key and not config.get("TILE_URL"):
            log.warning("BASEMAP=tianditu needs TIANDITU_KEY; drawing the map without tiles")
            return []
        for layer in layers:
            layer["url"] = layer["url"].replace("{key}", quote(key, safe=""))
    override = config.get("TILE_URL")
    if override and layers:
        for layer in layers:
            layer["url"] = override
    attribution = config.get("TILE_ATTRIBUTION")
    if attribution and layers:
        layers[0]["attribution"] = attribution
    return layers


def _display_outline(counties, code: str, crs: str):
    """A county's outline, simplified (about 100 m) and in the drawing CRS (shapely)."""
    geom = shapely.simplify(counties.geometry(code), COUNTY_SIMPLIFY_DEG, preserve_topology=True)
    if crs == "gcj02":
        geom = transform_geometry(geom, wgs84_to_gcj02)
    return shapely.set_precision(geom, 1e-5)


def county_outlines(counties, crs: str) -> dict[str, Any]:
    """Simplified county outlines (GeoJSON) in the drawing CRS, for orientation without tiles."""
    features = []
    for code in counties.codes:
        features.append({"type": "Feature", "properties": {"adcode": code},
                         "geometry": mapping(_display_outline(counties, code, crs))})
    return {"type": "FeatureCollection", "features": features}


def county_view(counties, code: str, crs: str) -> dict[str, Any]:
    """One county for the page script to fit the map to and draw: ``{code, name, bounds, outline}``.

    ``outline`` is a GeoJSON geometry (lon, lat) and ``bounds`` ``[[south, west], [north, east]]``
    (Leaflet's (lat, lon) order), both in the drawing CRS.
    """
    geom = _display_outline(counties, code, crs)
    minlon, minlat, maxlon, maxlat = geom.bounds
    return {
        "code": code, "name": counties.name(code),
        "bounds": [[round(minlat, 5), round(minlon, 5)], [round(maxlat, 5), round(maxlon, 5)]],  # (lat, lon)
        "outline": mapping(geom),
    }


def build_map(config: Mapping[str, Any], counties=None, static_url_path: str = "/static") -> folium.Map:
    """The map's skeleton: basemap tiles, fitted to the counties' bounds (numbers only, no data).

    Outlines and markers come from the page's JSON data and script (:func:`county_outlines`).
    """
    use_local_assets(static_url_path)
    crs = display_crs(config)
    if counties is not None and len(counties):
        minlon, minlat, maxlon, maxlat = counties.bounds
    else:  # Jining, roughly
        minlon, minlat, maxlon, maxlat = 115.9, 34.4, 117.7, 36.0
    (lon0, lon1), (lat0, lat1) = to_display(np.array([minlon, maxlon]), np.array([minlat, maxlat]), crs)
    m = folium.Map(
        location=[float(lat0 + lat1) / 2, float(lon0 + lon1) / 2],  # folium wants (lat, lon)
        # no folium scale bar: it shows miles and feet too; the page scripts add a metric one. The zoom
        # buttons sit at the bottom: the top of a phone's short map is left to the popups
        zoom_start=9, tiles=None, control_scale=False, zoom_control="bottomright",
        max_zoom=19, min_zoom=5,
    )
    for layer in tile_layers(config):
        folium.TileLayer(
            tiles=layer["url"], attr=layer["attribution"] or " ", subdomains=layer["subdomains"],
            max_zoom=19, max_native_zoom=layer["max_zoom"], control=False,
        ).add_to(m)
    fit = folium.map.FitBounds([[float(lat0), float(lon0)], [float(lat1), float(lon1)]])
    # At once, not animated: an animated first fit ends after (and undoes) a fit by the page script (?county=).
    fit.options["animate"] = False
    m.add_child(fit)
    return m


@dataclass(frozen=True)
class MapParts:
    """A rendered folium map, split for our own page template (no CDN links, no inline CSS)."""

    name: str      # the JS variable holding the L.Map
    html: str      # the map's <div>
    script: str    # the JS that builds the map (goes into <script nonce=...>)


class UnsafeMapError(ValueError):
    """A folium map holds something that folium would compile as a template."""


# The only folium/branca elements a map may hold: its skeleton. Data layers are drawn by page scripts.
SKELETON_TYPES = (Figure, folium.Map, folium.TileLayer, folium.map.FitBounds)


def _strings(value: Any):
    """Every str inside ``value`` (nested lists, tuples, dicts: keys and values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def check_skeleton(m: folium.Map) -> None:
    """Raise :class:`UnsafeMapError` unless the map is only a skeleton with template-free settings."""
    todo = [m.get_root()]
    while todo:
        element = todo.pop()
        if type(element) not in SKELETON_TYPES:
            raise UnsafeMapError(
                f"{type(element).__name__} on a folium map: folium compiles its text as a template, so "
                "data must reach the page as JSON (web.templating.page_json) drawn by the page's script; "
                f"allowed on the map: {', '.join(t.__name__ for t in SKELETON_TYPES)}")
        for name, value in vars(element).items():
            if name.startswith("_"):
                continue
            for text in _strings(value):
                if template_markers_in(text):
                    raise UnsafeMapError(f"{type(element).__name__}.{name} holds {text[:200]!r}, which folium "
                                         "would run as template code")
        todo.extend(element._children.values())


def render_map(m: folium.Map) -> MapParts:
    """Render the skeleton; refuse it (:class:`UnsafeMapError`) if any part could be template code.

    branca wraps the text each element renders in an ``Element`` and compiles it again as a template;
    the check between the two steps proves that second compile a no-op (no Jinja delimiter in it).
    """
    check_skeleton(m)
    root = m.get_root()
    for child in list(root._children.values()):  # as Figure.render: each element's text into an Element
        child.render()
    for part in (root.header, root.html, root.script):
        for element in part._children.values():
            text = element._template_str if type(element) is Element else None
            found = template_markers_in(text or "")
            if found:
                at = text.index(found[0])
                raise UnsafeMapError(f"rendered folium output holds {found[0]!r}, which branca would run as "
                                     f"template code: ...{text[max(0, at - 60):at + 60]!r}...")
    # The script goes inside <script>: make sure no data in it can close that element early.
    script = re.sub(r"</(script)", r"<\\/\1", root.script.render(), flags=re.IGNORECASE)
    return MapParts(name=m.get_name(), html=root.html.render(), script=script)


# ---- map apps ---------------------------------------------------------------------------------
APP_SRC = "yizhan"
BAIDU_SRC = "webapp.yizhan.map"  # Baidu asks for webapp.<company>.<app>


def _q(text: str) -> str:
    return quote(str(text), safe="")


def navigation_links(station, origin: tuple[float, float] | None = None) -> dict[str, str]:
    """Walking-navigation links for a station.

    Parameters
    ----------
    station : stations.model.Station (WGS-84 ``lon``/``lat``)
    origin : optional (lon, lat) WGS-84 start, e.g. the phone's position

    Returns
    -------
    dict with ``amap`` (walking route; AMap's URI takes GCJ-02, so the WGS-84 position is
    converted), ``baidu`` (``coord_type=wgs84``; a route from ``origin`` when given, else a
    marker) and ``geo`` (RFC 5870 URI for any other app).
    """
    glon, glat = wgs84_to_gcj02(station.lon, station.lat)
    amap = (
        "https://uri.amap.com/navigation?to="
        f"{glon:.6f},{glat:.6f},{_q(station.name)}&" + urlencode({"mode": "walk", "src": APP_SRC, "callnative": 1})
    )
    if origin is not None:
        olon, olat = origin
        baidu = (
            "https://api.map.baidu.com/direction?"
            f"origin=latlng:{olat:.6f},{olon:.6f}|name:{_q('我的位置')}"
            f"&destination=latlng:{station.lat:.6f},{station.lon:.6f}|name:{_q(station.name)}"
            f"&mode=walking&coord_type=wgs84&output=html&src={BAIDU_SRC}"
        )
    else:
        baidu = (
            "https://api.map.baidu.com/marker?"
            f"location={station.lat:.6f},{station.lon:.6f}&title={_q(station.name)}"
            f"&content={_q(station.address or station.name)}"
            f"&coord_type=wgs84&output=html&src={BAIDU_SRC}"
        )
    geo = f"geo:{station.lat:.6f},{station.lon:.6f}?q={station.lat:.6f},{station.lon:.6f}({_q(station.name)})"
    return {"amap": amap, "baidu": baidu, "geo": geo}


def marker_records(stations: Sequence, crs: str, open_flags: Mapping[str, bool | None],
                   always_open: Iterable[str], county_names: Mapping[str, str],
                   hours_text: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Compact per-station records for the page script; closed stations are left out.

    ``lat``/``lon`` are in the drawing CRS; ``wlat``/``wlon`` (WGS-84) are added only when that
    differs. The page inserts them as JSON (Jinja ``tojson``) and shows them with ``textContent``.
    """
    shown = [s for s in stations if s.status != "closed"]
    if not shown:
        return []
    lons = np.array([s.lon for s in shown])
    lats = np.array([s.lat for s in shown])
    dlons, dlats = to_display(lons, lats, crs)
    always = set(always_open)
    out = []
    for i, s in enumerate(shown):
        rec = {
            "id": s.id, "name": s.name, "kind": s.kind, "status": s.status,
            "lat": round(float(dlats[i]), 6), "lon": round(float(dlons[i]), 6),
            "county": county_names.get(s.county_code or "", ""),
            "address": s.address or "",
            "hours": (hours_text or {}).get(s.id) or s.opening_hours or "",
            "open": open_flags.get(s.id), "h24": s.id in always,
            "amenities": list(s.amenities),
        }
        if crs != "wgs84":
            rec["wlat"], rec["wlon"] = round(s.lat, 7), round(s.lon, 7)
        if s.phone:
            rec["phone"] = s.phone
        if s.sample:
            rec["sample"] = True
        out.append(rec)
    return out
