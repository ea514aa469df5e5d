"""Request bodies: JSON documents parsed by declared models, and JSON merge patches (RFC 7396).

A :class:`BodyModel` (pydantic v2) is a route's ``json=`` model (``web.requests.layer``): the body
must come with one of the model's ``media_types`` (else 415), be at most :data:`MAX_BODY_BYTES`
(else 413), be UTF-8 JSON (else 400 naming the body) and fit the model (else 400 naming every bad
member, ``properties.name``). Whether the record it describes is valid is the store's to say (422,
every problem of the record). ``body_schema`` is what the OpenAPI document shows as the body's
schema (e.g. ``StationFeature``), when it is not the model's own JSON Schema.
"""
from __future__ import annotations

import json
from typing import Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from stations.errors import Problem, not_unicode_at, shorten

from .answers import JSON
from .fields import ParameterError
from .layer import problems_error

#: the largest request body accepted, bytes (a station feature is 1-2 KB)
MAX_BODY_BYTES = 64 * 1024
#: the deepest nesting of arrays and objects accepted (a station feature has 4 levels); deeper bodies would
#: only make the code that reads them recurse
MAX_BODY_DEPTH = 32


class BodyModel(BaseModel):
    """A JSON request body as a model; unknown members are refused (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: media types accepted, the first one documented first
    media_types: ClassVar[tuple[str, ...]] = (JSON,)
    #: the JSON Schema the OpenAPI document shows (``None``: the model's own)
    body_schema: ClassVar[Mapping[str, Any] | None] = None
    #: what the body is, in words, for messages
    description: ClassVar[str] = "a JSON object"

    @classmethod
    def allowed(cls, name: str) -> str:
        info = cls.model_fields.get(name.split(".")[0])
        if info is not None and info.description:
            return info.description
        return cls.description

    @classmethod
    def openapi_schema(cls) -> dict[str, Any]:
        return dict(cls.body_schema) if cls.body_schema is not None else cls.model_json_schema()

    @classmethod
    def from_request(cls, request) -> "BodyModel":
        """The request's body parsed: 415, 413 or 400 (``ParameterError`` naming the member) otherwise."""
        if request.mimetype not in cls.media_types:
            raise UnsupportedMediaType(f"the body must be {cls.description} sent as "
                                       f"{' or '.join(cls.media_types)}; got "
                                       f"{shorten(request.mimetype or 'no Content-Type', 100)!r}")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise RequestEntityTooLarge(f"the body is {request.content_length} bytes; allowed: at most "
                                        f"{MAX_BODY_BYTES} bytes")
        raw = request.stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise RequestEntityTooLarge(f"the body is over {MAX_BODY_BYTES} bytes")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except RecursionError:  # nested deeper than the parser goes
            data, too_deep = None, True
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParameterError([Problem("body", "body", shorten(raw.decode("utf-8", "replace"), 200),
                                          f"the body is not UTF-8 JSON ({exc}); allowed: {cls.description}")]) \
                from None
        else:
            too_deep = _deeper_than(data, MAX_BODY_DEPTH)
        if too_deep:
            raise ParameterError([Problem("body", "body", None, f"the body is nested deeper than {MAX_BODY_DEPTH} "
                                                                f"levels; allowed: {cls.description}")])
        if not isinstance(data, dict):
            raise ParameterError([Problem("body", "body", type(data).__name__,
                                          f"the body must be a JSON object; allowed: {cls.description}")])
        where = not_unicode_at(data)
        if where is not None:
            raise ParameterError([Problem("body", where or "body", None,
                                          f"{where or 'the body'} is not Unicode text: a lone surrogate such as "
                                          "\\ud800 is not a character; allowed: text in UTF-8")])
        try:
            return cls.model_validate(data)
        except PydanticValidationError as exc:
            raise problems_error(exc, data, "body", cls.allowed) from None


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels in ``data`` (iterative)."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with the JSON merge ``patch`` applied (RFC 7396, section 2); neither is changed.

    An object member set to ``null`` is removed; an object is merged member by member; anything
    else (arrays included) replaces the target's value.
    """
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
