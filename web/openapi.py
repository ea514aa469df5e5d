"""The OpenAPI 3.1 document of the JSON API, generated from the routes' declarations.

Nothing here lists a route or a parameter. spectree generates the operations of every route declared
with ``web.requests.api.route`` (paths, query parameters from the query models' JSON Schema,
operationId, summary and description from the view's docstring, tags); this module adds to each
operation the answers its declaration names, those of a conditional GET (``If-None-Match``, ``ETag``,
304) and of its work class (429, 503 for analyses), the answers any API request may get (400, 414,
431, 500) and the body schemas registered with ``web.requests.schema``; then it fills in what
depends on the running app: ``{counties}`` and ``{<limit>}`` (e.g. ``{radius_step_m}``) in
descriptions, and ``x-yizhan-fill`` markers (a bound that is a setting, e.g. the most new sites).

The station feature schema is ``stations/schema.json`` (the validator's own vocabulary), embedded
as ``components.schemas.StationFeature``. No route module is imported here, and this module
imports none: the routes are found through the app.
"""
from __future__ import annotations

import copy
import re
from dataclasses import asdict
from typing import Any

from flask import current_app

from .limits import current_limits
from .requests import api, declared_endpoints
from .requests.answers import COMMON, ETAG, IF_NONE_MATCH, NOT_MODIFIED, SCHEMAS, SECURITY_SCHEMES
from .state import state

VERSION = "1.0.0"
TAGS = [
    {"name": "stations", "description": "Stations and counties: nearest search and GeoJSON (WGS-84)."},
    {"name": "coverage", "description": "The planners' coverage analysis (bounded: time budget, rate limit)."},
    {"name": "editing", "description": "Changing stations (staff accounts: a bearer token, or a signed-in "
                                       "session with its CSRF token). Every change is journalled with the "
                                       "account's name."},
    {"name": "meta", "description": "Liveness and this document."},
]
_TOKEN = re.compile(r"\{(\w+)\}")
FILL = "x-yizhan-fill"


def app_values() -> dict[str, Any]:
    """What the document takes from the running app: the counties and every limit setting."""
    counties = state().counties
    values: dict[str, Any] = asdict(current_limits())
    values["counties"] = ", ".join(f"`{code}` {counties.name(code)}" for code in counties.codes) or "none loaded"
    return values


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def fill(node: Any, values: dict[str, Any]) -> Any:
    """``node`` with ``{name}`` in descriptions and ``x-yizhan-fill`` markers replaced from ``values``.

    One pass per text: what is put in (a county's name, say) is never read again as a placeholder.
    """
    if isinstance(node, list):
        return [fill(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == FILL:
            continue
        if key == "description" and isinstance(value, str):
            out[key] = _TOKEN.sub(lambda m: _text(values[m.group(1)]) if m.group(1) in values else m.group(0),
                                  value)
        else:
            out[key] = fill(value, values)
    for key, name in node.get(FILL, {}).items():
        out[key] = values[name]
    return out


def _responses(declared) -> dict[str, Any]:
    answers: dict[int, Any] = {}
    for code, answer in declared.answers.items():
        answers[code] = answer.doc(ETAG if declared.conditional and 200 <= code < 300 else None)
    if declared.conditional:
        answers[304] = NOT_MODIFIED.doc()
    access = declared.access.answers if declared.access is not None else {}
    for code, answer in {**access, **declared.work.answers, **COMMON}.items():
        answers.setdefault(code, answer.doc())
    return {str(code): answers[code] for code in sorted(answers)}


def operations(app) -> dict[str, Any]:
    """The paths of the API routes of ``app``, each operation completed from its declaration."""
    declared_by_id = {d.operation_id: d for d in declared_endpoints(app).values() if d.layer is api}
    paths = copy.deepcopy(api.operations())
    for item in paths.values():
        for operation in item.values():
            declared = declared_by_id[operation["operationId"]]
            if not operation.get("description"):
                operation.pop("description", None)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in declared.path_examples:
                    parameter["example"] = declared.path_examples[parameter["name"]]
            if declared.conditional:
                operation["parameters"] = [*operation.get("parameters", []), dict(IF_NONE_MATCH)]
            if declared.parameters:
                operation["parameters"] = [*operation.get("parameters", []), *map(dict, declared.parameters)]
            if not operation.get("parameters"):
                operation.pop("parameters", None)
            operation.pop("requestBody", None)  # spectree's refers to its own components: ours instead
            if declared.json is not None:
                schema = declared.json.openapi_schema()
                operation["requestBody"] = {"required": True, "description": declared.json.description,
                                            "content": {media: {"schema": schema}
                                                        for media in declared.json.media_types}}
            if declared.access is not None:
                operation["security"] = [dict(requirement) for requirement in declared.access.security]
            operation["responses"] = _responses(declared)
    return paths


def build_openapi() -> dict[str, Any]:
    """The whole document for the running app (call within its app or request context)."""
    doc = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Yizhan (驿站地图) API",
            "version": VERSION,
            "summary": "Trade-union rest stations for outdoor workers: nearest search, GeoJSON, coverage.",
            "description": "JSON API. Positions are WGS-84 longitude/latitude degrees unless `crs` asks "
                           "otherwise (the `Content-Crs` header names the system); distances are geodesic "
                           "metres. Errors answer `{\"error\": {\"status\", \"message\", \"parameter\", "
                           "\"value\"}}`. Reading needs no account; CORS: any origin may read. Changing "
                           "stations (tag `editing`) needs a staff account: `Authorization: Bearer <token>` "
                           "(`yizhan token create NAME`), or the session cookie of a signed-in browser with "
                           "its CSRF token in `X-CSRFToken`; writes are never allowed cross-origin.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "tags": TAGS,
        "paths": fill(operations(current_app), app_values()),
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }
    if SECURITY_SCHEMES:
        doc["components"]["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    return doc
