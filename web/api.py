"""The JSON API under /api: parse (``web.params``) -> ``stations.*`` -> JSON. No domain logic here.

Positions are WGS-84 (lon, lat) unless ``crs=gcj02|bd09`` asks for converted output
(AMap and Baidu maps); the response then carries ``"crs": "<name>"``.
Errors are answered by ``web.errors`` as ``{"error": {...}}`` with a 4xx status.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import numpy as np
from flask import Blueprint, Response, request

from stations.coords import convert
from stations.model import COORD_DECIMALS

from .caching import conditional, etag_of
from .errors import json_response
from .limits import current_limits
from .openapi import build_openapi
from .params import parse_nearest, parse_station_filters, parse_crs
from .state import state

bp = Blueprint("api", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"


# ---- helpers ---------------------------------------------------------------------------------

def _canonical_args() -> tuple:
    return tuple(sorted(request.args.items(multi=True)))


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _text_and_etag(payload: Any) -> tuple[str, str]:
    """Serialised text and an ETag of its content (for data that does not follow the store)."""
    text = _dumps(payload)
    return text, etag_of(text)


def _conditional(etag: str, build_body: Callable[[], str], mimetype: str) -> Response:
    """304 when the client has ``etag``; else the body (built lazily) with the ETag."""
    return conditional(etag, lambda: Response(build_body(), mimetype=mimetype))


def _convert_positions(lons: list[float], lats: list[float], crs: str) -> tuple[list[float], list[float]]:
    """WGS-84 -> ``crs`` for many positions at once (vectorised), rounded like stored data."""
    if crs == "wgs84" or not lons:
        return lons, lats
    out_lon, out_lat = convert(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), "wgs84", crs)
    return ([round(float(v), COORD_DECIMALS) for v in out_lon],
            [round(float(v), COORD_DECIMALS) for v in out_lat])


def _features_in_crs(collection: dict[str, Any], crs: str) -> dict[str, Any]:
    """The FeatureCollection with every Point converted to ``crs`` (a new dict; input untouched)."""
    if crs == "wgs84":
        return collection
    features = collection["features"]
    lons = [f["geometry"]["coordinates"][0] for f in features]
    lats = [f["geometry"]["coordinates"][1] for f in features]
    lons, lats = _convert_positions(lons, lats, crs)
    converted = [
        {**f, "geometry": {**f["geometry"], "coordinates": [lon, lat]}}
        for f, lon, lat in zip(features, lons, lats)
    ]
    return {**collection, "crs": crs, "features": converted}


# ---- routes ----------------------------------------------------------------------------------

@bp.get("/health")
def health() -> Response:
    """Liveness: no data access (the benchmark's baseline)."""
    response = json_response({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/nearest")
def nearest() -> Response:
    """The k nearest stations to a WGS-84 position; same shape as ``yizhan nearest --json``."""
    p = parse_nearest(request.args)
    index = state().nearest_index()
    hits = index.query(p.lon, p.lat, k=p.k, kind=p.kind, amenities=p.amenities, statuses=p.statuses,
                       open_at=p.open_at, max_distance_m=p.max_distance_m, open_24_7=p.open_24_7)
    results = [hit.to_dict() for hit in hits]
    payload: dict[str, Any] = {"query": {"lat": p.lat, "lon": p.lon}, "results": results}
    if p.crs != "wgs84":
        lons, lats = _convert_positions([r["lon"] for r in results], [r["lat"] for r in results], p.crs)
        for result, lon, lat in zip(results, lons, lats):
            result["lon"], result["lat"] = lon, lat
        payload["crs"] = p.crs
    response = json_response(payload)
    response.headers["Cache-Control"] = "no-store"  # "open now" depends on the clock
    return response


@bp.get("/stations")
def stations() -> Response:
    """Stations as a GeoJSON FeatureCollection, filtered by kind, county, status, amenity, bbox."""
    st = state()
    filters = parse_station_filters(request.args, st.counties)
    version = st.store.version
    etag = etag_of("stations", version, _canonical_args())

    def body() -> str:
        if filters.is_empty:  # the whole map: serialise once per store version
            return st.cached(("api.stations", filters.crs),
                             lambda: _dumps(_features_in_crs(st.store.to_geojson(), filters.crs)))
        chosen = st.store.query(**filters.store_query())
        return _dumps(_features_in_crs(st.store.to_geojson(chosen), filters.crs))

    return _conditional(etag, body, GEOJSON)


@bp.get("/stations/<station_id>")
def station(station_id: str) -> Response:
    """One station as a GeoJSON Feature (404 JSON if there is none with that id)."""
    st = state()
    crs = parse_crs(request.args)
    feature = st.store.get(station_id).to_feature()  # NotFound -> 404 by web.errors
    etag = etag_of("station", st.store.version, station_id, crs)
    if crs != "wgs84":
        feature = _features_in_crs({"features": [feature]}, crs)["features"][0]
        feature["crs"] = crs
    return _conditional(etag, lambda: _dumps(feature), GEOJSON)


@bp.get("/counties")
def counties() -> Response:
    """County outlines (WGS-84) with adcode, name, area_km2 and population."""
    st = state()
    text, etag = st.cached("api.counties", lambda: _text_and_etag(st.counties.to_geojson()))
    return _conditional(etag, lambda: text, GEOJSON)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    st = state()
    text, etag = st.cached("api.openapi", lambda: _text_and_etag(build_openapi(st.counties, current_limits())))
    return _conditional(etag, lambda: text, "application/json")
