"""The write API for integrations: add, change and delete stations (``POST``/``PATCH``/``DELETE /api/stations``).

Every route is declared with :data:`web.auth.STAFF` (a bearer token, or a signed-in session with its
CSRF header; else 401) and goes through ``web.permissions`` (403 outside the account's counties,
before or after the change; delete for admins), which writes with the account's name as the
journal's ``who``.

Versions: a station's ETag is its record version quoted (``"3f2a…"``, strong; the same value as
``GET /api/stations/<id>`` sends). ``PATCH`` and ``DELETE`` need ``If-Match`` with it: missing, 428;
no longer current, 412 and nothing written. ``PATCH`` takes a JSON merge patch (RFC 7396) of the
feature's ``properties`` and/or ``geometry``, as ``application/merge-patch+json`` (or
``application/json``): a member set to ``null`` removes an optional property. An invalid record
is a 422 listing every problem (``error.problems``). Writes are never answered with CORS headers
(``web.security`` allows cross-origin reads only).
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from flask import Blueprint, Response, request, url_for
from pydantic import Field
from werkzeug.exceptions import PreconditionRequired

from stations.errors import StaleVersion
from stations.model import Station
from stations.store import record_version

from . import auth, permissions
from .errors import json_response
from .requests import GEOJSON, JSON, Answer, api, error, schema
from .requests.answers import STATION_FEATURE
from .requests.bodies import BodyModel, merge_patch
from .state import state

bp = Blueprint("write_api", __name__, url_prefix="/api")

MERGE_PATCH = "application/merge-patch+json"
ETAG_HEADER = {"ETag": {"description": "The station's version, quoted (strong): send it back in `If-Match` to "
                                       "change or delete the station.", "schema": {"type": "string"}}}
LOCATION_HEADER = {"Location": {"description": "The new station's URL (`/api/stations/<id>`).",
                                "schema": {"type": "string"}}}
IF_MATCH = {"name": "If-Match", "in": "header", "required": True,
            "description": "The ETag of the version the change is based on (from `GET /api/stations/<id>` or an "
                           "earlier write), e.g. `\"3f2a9c0e1b7d4a55\"`. Missing: 428; no longer current: 412.",
            "schema": {"type": "string"}}
STATION_WRITTEN = schema("StationWritten", {
    "description": "The station as stored (WGS-84).", "allOf": [STATION_FEATURE],
})
MERGE_PATCH_SCHEMA = schema("StationMergePatch", {
    "type": "object",
    "description": "A JSON merge patch (RFC 7396) of a station feature: the members of `properties` to set "
                   "(`null` removes an optional one) and/or a new `geometry` (a GeoJSON Point, WGS-84: moving a "
                   "station derives its county again). The id cannot change.",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "type": {"const": "Feature"},
        "id": {"type": "string", "description": "if given, the station's own id"},
        "properties": {"type": "object", "description": "property name -> new value, or null to remove it"},
        "geometry": {"type": "object", "description": "a GeoJSON Point, [lon, lat] in WGS-84 degrees"},
    },
})

CONFLICTS = {
    404: error("No station with that id."),
    412: error("`If-Match` names a version that is no longer the station's: someone changed it since. Nothing "
               "was written; read it again (`GET`), redo the change and send the new ETag."),
    422: error("The station as it would be is invalid: `error.problems` lists every problem (record, field, "
               "value, what is allowed). Nothing was written."),
    428: error("`If-Match` is missing: a change must name the version it is based on."),
}
BODY_ANSWERS = {
    413: error("The body is over 64 KiB."),
    415: error("The body's `Content-Type` is not one this route takes."),
}


# ---- bodies ----------------------------------------------------------------------------------------

class NewStation(BodyModel):
    """A GeoJSON Feature of a station to add."""

    media_types: ClassVar[tuple[str, ...]] = (GEOJSON, JSON)
    body_schema: ClassVar[dict[str, Any]] = STATION_FEATURE
    description: ClassVar[str] = ("a GeoJSON Feature of a station (`StationFeature`); without `properties.id` "
                                  "it gets the next free id of its kind")

    type: Literal["Feature"] = Field(description='"Feature"')
    id: str | None = Field(None, description="the station's id (as properties.id), optional")
    geometry: dict[str, Any] | None = Field(description="a GeoJSON Point, [lon, lat] in WGS-84 degrees")
    properties: dict[str, Any] = Field(description="the station's properties (StationFeature)")

    def feature(self) -> dict[str, Any]:
        props = dict(self.properties)
        if self.id is not None and not props.get("id"):
            props["id"] = self.id
        return {"type": "Feature", "geometry": self.geometry, "properties": props}


class StationPatch(BodyModel):
    """A JSON merge patch (RFC 7396) of a station feature."""

    media_types: ClassVar[tuple[str, ...]] = (MERGE_PATCH, JSON)
    body_schema: ClassVar[dict[str, Any]] = MERGE_PATCH_SCHEMA
    description: ClassVar[str] = ("a JSON merge patch of the station feature: `properties` and/or `geometry` "
                                  "(`StationMergePatch`)")

    type: Literal["Feature"] | None = Field(None, description='"Feature", if given')
    id: str | None = Field(None, description="the station's own id, if given")
    properties: dict[str, Any] | None = Field(None, description="property name -> new value, or null to remove it")
    geometry: dict[str, Any] | None = Field(None, description="a GeoJSON Point, [lon, lat] in WGS-84 degrees")

    def changes(self, current: Station) -> dict[str, Any]:
        """The store's ``changes`` for ``current``: each patched property (``None`` removes it), the merged
        geometry, and the id if the patch names another (the store refuses that: 422)."""
        given = self.model_dump(exclude_unset=True)
        out: dict[str, Any] = {}
        if given.get("properties") is not None:
            before = current.to_feature()["properties"]
            after = merge_patch(before, given["properties"])
            for key in given["properties"]:
                out[key] = after.get(key)
        if "geometry" in given:
            out["geometry"] = merge_patch(current.to_feature()["geometry"], given["geometry"])
        if given.get("id") not in (None, current.id):
            out["id"] = given["id"]
        return out


# ---- helpers -------------------------------------------------------------------------------------

def station_etag(station: Station) -> str:
    """The ETag value of a station (unquoted): its record version."""
    return record_version(station)


def _feature_response(station: Station, status: int = 200) -> Response:
    response = json_response(station.to_feature(), status, GEOJSON)
    response.set_etag(station_etag(station))  # strong
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Crs"] = "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    return response


def required_version(station: Station) -> str:
    """The version ``If-Match`` names, if it is the station's current one; 428 without it, 412 if stale."""
    if_match = request.if_match
    if not if_match or if_match.star_tag or not request.headers.get("If-Match", "").strip():
        raise PreconditionRequired("If-Match is missing: send the ETag of the version the change is based on "
                                   '(If-Match: "<version>", from GET /api/stations/<id>)')
    current = station_etag(station)
    if if_match.contains(current):
        return current
    sent = request.headers.get("If-Match", "")[:100]
    raise StaleVersion(f"station {station.id} was changed by someone else since version {sent} was read "
                       f"(now {current}); nothing was saved: reload it, redo the change and send the new ETag",
                       record_id=station.id, expected=sent, current_version=current, current=station)


# ---- routes --------------------------------------------------------------------------------------

@bp.post("/stations")
@api.route(json=NewStation, access=auth.STAFF, operation_id="createStation", tags=("editing",),
           answers={201: Answer("Added; `Location` names it, `ETag` is its version.", STATION_WRITTEN, GEOJSON,
                                {**LOCATION_HEADER, **ETAG_HEADER}),
                    409: error("A station with that id exists already."),
                    422: CONFLICTS[422], **BODY_ANSWERS})
def create_station(body: NewStation) -> Response:
    """Add a station

    A GeoJSON Feature (WGS-84). Its county is derived from its position and must be one of the
    account's (admins: any). Without `properties.id` it gets the next free id of its kind.
    """
    station = permissions.add_station(auth.current_account(), body.feature())
    response = _feature_response(station, 201)
    response.headers["Location"] = url_for("api.station", station_id=station.id)
    return response


@bp.patch("/stations/<station_id>")
@api.route(json=StationPatch, access=auth.STAFF, operation_id="updateStation", tags=("editing",),
           path_parameters={"station_id": "The station's id, e.g. JN-RS-0001."},
           path_examples={"station_id": "JN-RS-0001"}, parameters=(IF_MATCH,),
           answers={200: Answer("Changed (or already so); `ETag` is its new version.", STATION_WRITTEN, GEOJSON,
                                ETAG_HEADER), **CONFLICTS, **BODY_ANSWERS})
def update_station(station_id: str, body: StationPatch) -> Response:
    """Change a station

    A JSON merge patch (RFC 7396) of its `properties` and/or `geometry`, based on the version in
    `If-Match`. An editor may change the stations of their counties only, and may not move one out
    of them.
    """
    current = state().store.get(station_id)  # 404
    expected = required_version(current)
    station = permissions.edit_station(auth.current_account(), station_id, body.changes(current),
                                       expected_version=expected)
    return _feature_response(station)


@bp.delete("/stations/<station_id>")
@api.route(access=auth.STAFF, operation_id="deleteStation", tags=("editing",),
           path_parameters={"station_id": "The station's id, e.g. JN-RS-0001."},
           path_examples={"station_id": "JN-RS-0001"}, parameters=(IF_MATCH,),
           answers={204: Answer("Deleted; its journal entries remain (it can be restored by a revert)."),
                    404: CONFLICTS[404], 412: CONFLICTS[412], 428: CONFLICTS[428]})
def delete_station(station_id: str) -> Response:
    """Delete a station (admins)

    A station that closes is better given `status: closed` with `PATCH`: it stays on record.
    """
    account = permissions.require_admin(auth.current_account())
    current = state().store.get(station_id)  # 404
    permissions.delete_station(account, station_id, expected_version=required_version(current))
    return Response(status=204)
