"""Conditional GET: one ETag mechanism for the API and the planner's downloads."""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from flask import Response, request

REVALIDATE = "no-cache"  # browsers may keep a copy but must revalidate it (cheap with the ETag)


def etag_of(*parts: Any) -> str:
    """A short, stable ETag of the given parts (include the store version where data follows it)."""
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:24]


def conditional(etag: str, build: Callable[[], Response], weak: bool = True) -> Response:
    """304 when the client already has ``etag``; else ``build()`` (called lazily) with the ETag.

    The ETag is weak by default: a body may be sent gzip-encoded, which changes its bytes, not its
    meaning. A strong one (``weak=False``) is a version that ``If-Match`` may name (a station's).
    """
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = build()
    response.set_etag(etag, weak=weak)
    response.headers["Cache-Control"] = REVALIDATE
    return response
