"""Declared answers of the API: what a route may respond, for the OpenAPI document.

A route lists its answers next to itself (``api.route(answers={200: Answer(...)}, ...)``); the
answers every API route shares (400, 414, 431, 500), the conditional-GET ones (ETag, 304) and those
of bounded work (429, 503) are added from the declaration's flags by ``web.openapi``. Response body
schemas are JSON Schema (2020-12) dicts registered here by name with :func:`schema`, each next to
the code that builds that body; ``StationFeature`` is ``stations/schema.json`` itself, generated from
the validator's vocabulary.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any, Mapping

JSON = "application/json"
GEOJSON = "application/geo+json"

#: name -> JSON Schema of the bodies the API answers with (``components.schemas``)
SCHEMAS: dict[str, dict[str, Any]] = {}
#: name -> OpenAPI security scheme (``components.securitySchemes``), registered by the code that checks it
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {}


def schema(name: str, body: dict[str, Any]) -> dict[str, str]:
    """Register ``body`` as ``components.schemas[name]``; returns the ``$ref`` to it."""
    if name in SCHEMAS and SCHEMAS[name] != body:
        raise ValueError(f"two different response schemas named {name!r}")
    SCHEMAS[name] = body
    return ref(name)


def security_scheme(name: str, body: dict[str, Any]) -> str:
    """Register ``body`` as ``components.securitySchemes[name]``; returns the name."""
    if name in SECURITY_SCHEMES and SECURITY_SCHEMES[name] != body:
        raise ValueError(f"two different security schemes named {name!r}")
    SECURITY_SCHEMES[name] = body
    return name


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True)
class Answer:
    """One documented response: its description, body schema and media type, response headers.

    ``also`` documents other media types the same answer may come in (content negotiation): media
    type -> OpenAPI media type object (``{"schema": {...}}``).
    """

    description: str
    body: Mapping[str, Any] | None = None
    media: str = JSON
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    also: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def doc(self, extra_headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description}
        headers = {**self.headers, **(extra_headers or {})}
        if headers:
            out["headers"] = {k: dict(v) for k, v in headers.items()}
        if self.body is not None:
            out["content"] = {self.media: {"schema": dict(self.body)}}
        if self.also:
            out.setdefault("content", {}).update({media: dict(obj) for media, obj in self.also.items()})
        return out


ERROR = schema("Error", {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "message": {"type": "string"},
                "parameter": {"type": "string", "description": "the offending parameter"},
                "value": {"description": "the value it had (as sent; a text over 200 characters is cut, ending "
                                         "with …)"},
                "value_length": {"type": "integer", "minimum": 0,
                                 "description": "the length of a cut text value, in characters"},
                "problems": {"type": "array", "items": {"type": "object"},
                             "description": "every problem, up to 20 (several bad parameters)"},
                "problems_total": {"type": "integer", "minimum": 0,
                                   "description": "how many problems there were, when over 20"},
            },
        },
    },
})


def error(description: str) -> Answer:
    return Answer(description, ERROR)


RETRY_AFTER = {"Retry-After": {"description": "seconds", "schema": {"type": "integer"}}}
ETAG = {"ETag": {"description": "Changes when the data changes; send it back in If-None-Match.",
                 "schema": {"type": "string"}}}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False,
                 "description": "An ETag from an earlier answer; 304 if nothing changed.",
                 "schema": {"type": "string"}}
NOT_MODIFIED = Answer("Not modified since the ETag given in If-None-Match.", headers=ETAG)

#: what any API request may be answered with, whatever the route
COMMON = {
    400: error("A parameter is missing or invalid; `error.parameter` names it (and `error.problems` lists "
               "every bad parameter when there are several). Also the answer to a request for a host the "
               "site does not serve (`TRUSTED_HOSTS`)."),
    414: error("The URL (path and query string) is longer than `MAX_URL_LENGTH` (default 4,096 bytes). Past "
               "8,190 bytes for the whole request line the HTTP server answers before the app, with a short "
               "HTML body."),
    431: Answer("A request header is longer than 8,190 bytes, or there are more than 100 header fields: "
                "answered by the HTTP server before the app (short HTML body, no JSON)."),
    500: error("Unexpected server error (logged; no detail is given)."),
}


@lru_cache(maxsize=1)
def station_feature_schema() -> dict[str, Any]:
    """``stations/schema.json`` without ``$schema``/``$id`` (it becomes part of the OpenAPI document)."""
    body = json.loads(files("stations").joinpath("schema.json").read_text(encoding="utf-8"))  # package data
    for key in ("$schema", "$id"):
        body.pop(key, None)
    return body


STATION_FEATURE = schema("StationFeature", station_feature_schema())
