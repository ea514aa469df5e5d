"""One error handler for the whole site: JSON under /api, an HTML page elsewhere.

``stations.errors`` carry their HTTP status (ValidationError 400, InvalidRecord 422, NotFound 404,
Conflict 409, StaleVersion 412, StoredDataError 500, StoreUnavailable 503): the class decides, never
the message. werkzeug's HTTPExceptions keep theirs; anything else is logged and answered with a
generic 500 that shows no traceback or internal detail. A 5xx domain error (data that cannot be read,
a store out of reach) is logged in one line, without a traceback, and answered with a generic
message. Values quoted in answers and log lines are cut to a few hundred characters
(``stations.errors.quote_value``).

JSON shape: ``{"error": {"status": 400, "message": "...", "parameter": "lat", "value": "abc"}}``
(``parameter``/``value`` when the problem names one; ``problems`` when there are several, and always
for an invalid record, 422).
"""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, render_template, request, url_for
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from stations.errors import InvalidRecord, NotFound, StoredDataError, ValidationError, YizhanError, shorten

from . import i18n

log = logging.getLogger(__name__)

API_PREFIX = "/api"
#: JSON answers outside /api: oEmbed (``web.embeds``)
JSON_PATHS = ("/oembed",)
#: paths whose answers are negotiated JSON first (``f=json|html``, else ``Accept``): the OGC API
NEGOTIATED_PREFIX = "/ogc"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def wants_json() -> bool:
    """JSON for the API (and for clients that prefer JSON over HTML), HTML otherwise; under ``/ogc`` as
    its answers are: ``f=json``/``f=html``, else JSON unless ``Accept`` prefers HTML."""
    path = request.path
    if _under(path, API_PREFIX) or path in JSON_PATHS:
        return True
    if _under(path, NEGOTIATED_PREFIX):
        f = request.args.get("f", "").strip()
        if f in ("json", "html"):
            return f == "json"
        return request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html"
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def json_response(payload: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    """Compact UTF-8 JSON (Chinese text as is, not \\u escapes); NaN is refused, never sent."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(body, status=status, mimetype=mimetype)


def error_payload(status: int, message: str, **extra: Any) -> dict[str, Any]:
    error = {"status": status, "message": message}
    error.update({k: v for k, v in extra.items() if v is not None})
    return {"error": error}


def _render(status: int, title: str, message: str, extra: dict[str, Any] | None = None,
            headers: list[tuple[str, str]] | None = None) -> Response:
    extra = extra or {}
    if wants_json():
        response = json_response(error_payload(status, message, **extra), status)
    elif status == 404:
        response = Response(_not_found_page(), status=404, mimetype="text/html")
    else:
        try:
            html = render_template("error.html", status=status, title=title, message=message, both=i18n.both,
                                   **extra)
        except Exception:  # a broken template must not hide the original error
            log.exception("error.html failed to render")
            html = (f"<!doctype html><meta charset=utf-8><title>{status} {escape(title)}</title>"
                    f"<h1>{status} {escape(title)}</h1><p>{escape(message)}</p>")
        response = Response(html, status=status, mimetype="text/html")
    for key, value in headers or []:
        response.headers[key] = value
    return response


#: the 404 page's language switch leads to the same address only when it is at most this long (else: the map)
MAX_ECHOED_PATH = 512


def _not_found_page() -> str:
    """The styled 404 page in the visitor's language (``web.i18n.get_lang``), offering the map and the nearest
    stations; a plain page if the site's template cannot be drawn (no data loaded, for one)."""
    from . import templating

    try:
        page = templating.page_globals()
        if len(request.full_path) > MAX_ECHOED_PATH:  # a long made-up address is not written back whole
            other = "en" if page["lang"] == "zh" else "zh"
            page["switch_url"] = url_for("pages.index", lang=other)
        return render_template("not_found.html", station_missing=request.path.startswith("/stations/"), **page)
    except Exception:  # a broken page must not hide the 404
        log.exception("not_found.html failed to render")
        lang = i18n.get_lang()
        return (f"<!doctype html><html lang=\"{i18n.HTML_LANG[lang]}\"><meta charset=utf-8>"
                f"<title>404 {escape(i18n.translate('not_found.title', lang))}</title>"
                f"<main><h1>404 {escape(i18n.translate('not_found.title', lang))}</h1>"
                f"<p><a href=\"/\">{escape(i18n.translate('back_to_map', lang))}</a></p></main>")


#: at most this many problems are listed in a JSON error
MAX_PROBLEMS_SHOWN = 20
#: messages that may quote a request value are cut after this many characters
MAX_MESSAGE_CHARS = 4000


def _request_line() -> str:
    return f"{request.method} {shorten(request.path)}"


def handle_domain_error(exc: YizhanError) -> Response:
    status = int(getattr(exc, "http_status", 400))
    if status >= 500:  # the server's data or state, not the request: log it, tell the client little
        summary = exc.summary() if isinstance(exc, ValidationError) else shorten(str(exc), MAX_MESSAGE_CHARS)
        if isinstance(exc, StoredDataError):
            log.error("cannot use the station data %s while serving %s: %s",
                      shorten(exc.source or "(store)"), _request_line(), summary)
            message = "The station data could not be read; the problem has been logged."
        else:
            log.error("%s while serving %s: %s", exc.__class__.__name__, _request_line(), summary)
            message = "Something went wrong on our side; it has been logged."
        return _render(status, HTTP_STATUS_CODES.get(status, InternalServerError.name), message)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationError):
        problems = exc.problems
        first = problems[0] if problems else None
        message = getattr(exc, "message", None) or (first.allowed if first else str(exc))
        if first is not None:
            shown = first.to_dict()  # long values cut, with their length
            extra = {"parameter": shown["field"], "value": shown["value"], "value_length": shown.get("value_length")}
        if len(problems) > 1 or isinstance(exc, InvalidRecord):  # a record's problems: always the whole list
            extra["problems"] = [p.to_dict() for p in problems[:MAX_PROBLEMS_SHOWN]]
            if len(problems) > MAX_PROBLEMS_SHOWN:
                extra["problems_total"] = len(problems)
        title = HTTP_STATUS_CODES.get(status, "Bad request")  # 400; an InvalidRecord is 422
    elif isinstance(exc, NotFound):
        message, title = str(exc), "Not found"
    else:
        message = str(exc) or exc.__class__.__name__
        title = HTTP_STATUS_CODES.get(status, exc.__class__.__name__)
    return _render(status, title, message, extra)


def handle_http_error(exc: HTTPException) -> Response:
    if exc.code is None:  # not an error response (e.g. a routing redirect): let werkzeug answer
        return exc  # type: ignore[return-value]
    if exc.code >= 500:
        log.error("HTTP %s on %s: %s", exc.code, _request_line(), shorten(str(exc.description), MAX_MESSAGE_CHARS))
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    # descriptions are ours, but some quote request values: a safety net for those
    return _render(exc.code, exc.name, shorten(exc.description or exc.name, MAX_MESSAGE_CHARS), headers=headers)


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s", _request_line())
    generic = InternalServerError()
    return _render(500, generic.name, "Something went wrong on our side; it has been logged.")


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""
    app.register_error_handler(YizhanError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
