"""The planner's interactive map: the folium skeleton (basemap, first fit) and its layers as JSON.

The layers (choropleth, gaps, stations, worst cases, suggested sites) reach the page as data that
``js/planning-map.js`` draws with ``textContent``: nothing from the store or the county file goes
through folium, which compiles its output as a template (``web.maps``). Positions are WGS-84 in,
and in the drawing CRS out (GCJ-02 on AMap tiles, as on the home page: ``web.maps.to_display``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from stations.coords import transform_geometry, wgs84_to_gcj02
from stations.coverage import COVERING_KINDS, covers
from stations.model import Station

from .. import maps
from ..i18n import translate
from .charts import ShareClasses, fmt_number
from .parameters import CoverageQuery

SUGGESTION_COLOUR = "#d95f02"  # orange: apart from every palette colour
GAP_HATCH = "url(#yz-gap-hatch)"  # a <pattern> defined in planning.html
#: below this zoom the county names are hidden (the whole province in view: they would crowd)
LABEL_MIN_ZOOM = 8
#: a view of more counties than this (a province, the country) draws the counties' covered shares
#: only, from outlines simplified to :data:`COARSE_TOLERANCE_DEG`: every gap and station of 2,875
#: counties would be hundreds of MB of page that no browser draws (and minutes of the server's time).
#: The gaps and stations are drawn for one county (``county=``) or a city.
DETAIL_MAX_COUNTIES = 200
COARSE_TOLERANCE_DEG = 0.01  # ~1 km: county outlines at the scale of a province or the country


def detailed(data: dict) -> bool:
    """Whether the map of ``data``'s view draws the gaps and the stations (:data:`DETAIL_MAX_COUNTIES`)."""
    return len(data["counties"]) <= DETAIL_MAX_COUNTIES


def suggestion_lines(s: dict, lang: str) -> list[str]:
    """A suggested site's place in words: the nearest address or road (where the reverse geocoder gave one)
    and the nearest covering station with its distance (plain text, shown with ``textContent``)."""
    lines = []
    if s.get("address"):
        lines.append(translate("suggestion_tip_address", lang, address=s["address"]))
    near = s.get("nearest_station")
    if near:
        lines.append(translate("suggestion_tip_nearest", lang, name=near["name"], km=f"{near['distance_m'] / 1000:.1f}"))
    else:
        lines.append(translate("suggestion_tip_none", lang))
    return lines


def _display_geom(geom, crs: str):
    return transform_geometry(geom, wgs84_to_gcj02) if crs == "gcj02" else geom


def _display_point(lon: float, lat: float, crs: str) -> dict[str, float]:
    """WGS-84 (lon, lat) -> ``{"lat", "lon"}`` in the drawing CRS, for the page script."""
    x, y = maps.to_display(lon, lat, crs)
    return {"lat": round(float(y), 6), "lon": round(float(x), 6)}


def build_planning_map(p: CoverageQuery, counties, config, static_url: str):
    """The folium skeleton of the planning map: basemap, fitted to the city or the county (numbers only).

    Its layers are data (:func:`planning_layers`), drawn by ``js/planning-map.js``: nothing from the
    store or the county file goes through folium, which compiles its output as a template (``web.maps``).
    """
    crs = maps.display_crs(config)
    m = maps.build_map(config, None, static_url)  # basemap and local assets
    m.options["zoom_snap"] = 0.25  # fit the city snugly into the frame
    if p.county:
        minlon, minlat, maxlon, maxlat = counties.geometry(p.county).bounds
    else:
        minlon, minlat, maxlon, maxlat = counties.bounds
    (lon0, lon1), (lat0, lat1) = maps.to_display(np.array([minlon, maxlon]), np.array([minlat, maxlat]), crs)
    m.fit_bounds([[float(lat0), float(lon0)], [float(lat1), float(lon1)]], padding=(8, 8))  # (lat, lon)
    return m


def planning_layers(p: CoverageQuery, data: dict, gaps: dict, classes: ShareClasses, lang: str, counties,
                    stations: list[Station], crs: str) -> dict[str, Any]:
    """The planning map's layers as JSON for ``js/planning-map.js``: choropleth, gaps, stations, worst cases,
    suggested sites. Positions are in the drawing CRS ``crs`` (GCJ-02 on AMap tiles); texts are plain text
    that the script shows with ``textContent``. ``stations`` are those the analysis counted."""
    names = {c["adcode"]: c["name"] for c in data["counties"]}
    tol_deg = min(p.radius_m / 50, 50.0) / 111_000  # keeps R-circles round, drops sub-pixel detail
    detail = detailed(data)

    outlines = [counties.geometry(c["adcode"]) for c in data["counties"]]
    if detail:
        drawn = shapely.simplify(outlines, 0.0005, preserve_topology=True)
    else:  # thousands of counties: a plain simplification is ~20x faster; one that would vanish keeps its shape
        drawn = shapely.simplify(outlines, COARSE_TOLERANCE_DEG, preserve_topology=False)
        vanished = np.flatnonzero(shapely.is_empty(drawn))
        if len(vanished):
            drawn[vanished] = shapely.simplify(np.asarray(outlines, dtype=object)[vanished], COARSE_TOLERANCE_DEG,
                                               preserve_topology=True)
    county_features, county_labels = [], []
    for c, outline, geom in zip(data["counties"], outlines, drawn):
        anchor = shapely.point_on_surface(outline)  # inside the county, even a crescent-shaped one
        county_labels.append({**_display_point(anchor.x, anchor.y, crs), "adcode": c["adcode"], "name": c["name"],
                              "area_km2": round(c["area_km2"], 1)})
        geom = shapely.set_precision(_display_geom(geom, crs), 1e-6)
        county_features.append({"type": "Feature", "geometry": mapping(geom), "properties": {
            "adcode": c["adcode"], "fill": classes.colour(c["covered_share"]), "name": c["name"],
            "share": fmt_number(c["covered_share"] * 100, classes.decimals + 1, "%"),
            "worst": "–" if c["worst_case_m"] is None else translate("km", lang, n=f"{c['worst_case_m'] / 1000:.1f}"),
            "rest": f"{c['rest_stations']} / {c['target']['rest_stations']['target']}",
        }})

    gap_features = []
    for f in (gaps["features"] if detail else ()):
        geom = shapely.simplify(shape(f["geometry"]), tol_deg, preserve_topology=True)
        geom = shapely.set_precision(_display_geom(geom, crs), 1e-6)
        if not geom.is_empty:
            gap_features.append({"type": "Feature", "geometry": mapping(geom),
                                 "properties": {"adcode": f["properties"]["adcode"]}})

    kinds = tuple(data.get("kinds") or COVERING_KINDS)
    points = [{**_display_point(s.lon, s.lat, crs), "kind": s.kind, "status": s.status, "name": s.name,
               "covering": covers(s, kinds)} for s in (stations if detail else ())]
    worst = [{**_display_point(*c["worst_case_point"], crs),  # worst_case_point is (lon, lat)
              "tip": translate("worst_tip", lang, county=c["name"], km=f"{c['worst_case_m'] / 1000:.1f}")}
             for c in data["counties"] if c["worst_case_point"]]
    suggestions = [{**_display_point(s["lon"], s["lat"], crs), "rank": rank, "radius_m": p.radius_m,
                    "tip": translate("suggestion_tip", lang, rank=rank,
                                     county=s.get("county") or names.get(s["county_code"], ""), gain=f"{s['gain']:.2f}"),
                    "lines": suggestion_lines(s, lang)}
                   for rank, s in enumerate(data["suggestions"], start=1)]
    return {
        "crs": crs,
        "style": {"gapFill": GAP_HATCH, "suggestion": SUGGESTION_COLOUR},
        "labels": {"share": translate("county_tip_share", lang), "worst": translate("county_tip_worst", lang),
                   "rest": translate("county_tip_rest", lang)},
        "counties": {"type": "FeatureCollection", "features": county_features},
        "countyLabels": county_labels, "labelMinZoom": LABEL_MIN_ZOOM,
        "gaps": {"type": "FeatureCollection", "features": gap_features},
        "stations": points, "worst": worst, "suggestions": suggestions, "detailed": detail,
    }
