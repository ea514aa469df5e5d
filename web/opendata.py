"""What the open-data answers share (``/api/stations``, the OGC API under ``/ogc``): absolute links, the
links between pages, the export info from the settings, and the answer's format from ``f``/``format``
or the ``Accept`` header.

Links are absolute: ``PUBLIC_URL`` (e.g. https://yizhan.example.cn) when set, else the request's own
scheme and host (checked against ``TRUSTED_HOSTS`` by ``web.hosts`` before any view runs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlencode

from flask import current_app, request, url_for

from stations.exporting import ExportInfo
from stations.model import Station


def absolute_url(endpoint: str, query: Mapping[str, Any] | None = None, **values: Any) -> str:
    """The absolute URL of ``endpoint`` (with path ``values``) and a query string from ``query``
    (lists repeat the parameter); ``PUBLIC_URL`` wins over the request's host."""
    public = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    url = public + url_for(endpoint, **values) if public else url_for(endpoint, _external=True, **values)
    pairs = [(k, v) for k, v in (query or {}).items() if v is not None and v != [] and v != ""]
    return url + ("?" + urlencode(pairs, doseq=True) if pairs else "")


def request_args(drop: Iterable[str] = ()) -> dict[str, list[str]]:
    """This request's query parameters as lists (empty values dropped), less ``drop``."""
    dropped = set(drop)
    return {k: [v for v in request.args.getlist(k) if v.strip()] for k in request.args if k not in dropped}


@dataclass(frozen=True)
class PageLinks:
    """The absolute URLs of this page, the next and the previous one (``None`` at either end)."""

    self: str
    next: str | None
    prev: str | None

    def json(self, media_type: str) -> list[dict[str, str]]:
        """The links as a JSON ``links`` member (``self``, ``next``, ``prev``) of ``media_type``."""
        return [{"href": url, "rel": rel, "type": media_type, "title": title}
                for rel, url, title in (("self", self.self, "this page"), ("next", self.next, "next page"),
                                        ("prev", self.prev, "previous page")) if url]

    def header(self) -> str:
        """An RFC 8288 ``Link`` header value with ``next`` and ``prev``."""
        parts = [f'<{url}>; rel="{rel}"' for rel, url in (("next", self.next), ("prev", self.prev)) if url]
        return ", ".join(parts)


def page_links(endpoint: str, offset: int, limit: int, next_offset: int | None,
               path_values: Mapping[str, Any] | None = None,
               override: Mapping[str, list[str]] | None = None) -> PageLinks:
    """Links of a page of ``limit`` items from ``offset``: this request's other parameters are kept
    (``override`` replaces some of them, e.g. ``{"f": ["json"]}``)."""
    args = {**request_args(drop=("offset", "limit")), **(override or {})}
    values = dict(path_values or {})

    def at(start: int) -> str:
        query = {**args, "limit": [str(limit)]}
        if start:
            query["offset"] = [str(start)]
        return absolute_url(endpoint, query, **values)

    prev = at(max(0, offset - limit)) if offset > 0 else None
    return PageLinks(self=at(offset), next=at(next_offset) if next_offset is not None else None, prev=prev)


def export_info(stations: Sequence[Station], source_url: str | None = None) -> ExportInfo:
    """The info every exported file carries (``stations.exporting``), from the settings
    ``DATA_ATTRIBUTION``, ``DATA_LICENSE`` and ``CITY_NAME``."""
    config = current_app.config
    return ExportInfo.of(stations, title=f"{config.get('CITY_NAME', '')} 驿站 stations".strip(),
                         attribution=config["DATA_ATTRIBUTION"], license=config["DATA_LICENSE"],
                         source_url=source_url)


def negotiate(given: str | None, offered: Mapping[str, str], default: str) -> str:
    """The format to answer with: ``given`` (``f=``, ``format=``) if any, else the one of ``offered``
    (name -> media type, in the server's order of preference) that ``Accept`` rates best; ``default``
    when nothing offered is acceptable."""
    if given:
        return given
    by_media = {media.split(";")[0].strip(): name for name, media in offered.items()}
    best = request.accept_mimetypes.best_match(list(by_media))
    return by_media.get(best, default) if best else default
