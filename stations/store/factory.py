"""Open a station store from one setting: a file path, a ``geojson:`` URL, or a database URL.

- ``geodata/stations.geojson`` or any path (``str`` or ``os.PathLike``): the GeoJSON file store.
- ``geojson:PATH`` (relative or absolute) or ``geojson:///absolute/path`` (percent-encoded, as a
  ``file:`` URL): the same.
- ``postgresql+psycopg://user@host/db`` (also ``postgresql://``, ``postgis://``; ``?schema=NAME``):
  the PostgreSQL/PostGIS store, ``stations.store.postgis.open_url(url, counties, **options)``.
"""
from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from ..errors import Problem, ValidationError
from .base import StationStore

#: URL scheme -> the module whose ``open_url(url, counties, **options)`` opens that store
DATABASE_SCHEMES = {
    "postgresql+psycopg": "stations.store.postgis",
    "postgresql": "stations.store.postgis",
    "postgis": "stations.store.postgis",
}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")  # two characters at least: C:\ is a Windows path
ALLOWED = "a file path, geojson:PATH, or a PostgreSQL URL (postgresql+psycopg://user@host/database)"


def _bad(url: str, why: str) -> ValidationError:
    return ValidationError(Problem("store", "STORE_URL", url, f"{ALLOWED}; {why}"))


def geojson_path(url: str) -> Path:
    """The file path a ``geojson:`` URL names."""
    rest = url[len("geojson:"):]
    if rest.startswith("//"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise _bad(url, "a geojson:// URL names a local file: geojson:///absolute/path.geojson")
        rest = unquote(parts.path)
    if not rest:
        raise _bad(url, "the URL names no file")
    return Path(rest)


def open_store(url_or_path: str | os.PathLike, counties=None, **options: Any) -> StationStore:
    """The store that ``url_or_path`` names, checking and deriving counties with ``counties``.

    ``options`` go to the backend (the file store: ``journal_path``). An unknown scheme, or a
    database backend that is not installed, raises :class:`ValidationError` naming the setting.
    """
    from .geojson import GeoJSONStore

    if isinstance(url_or_path, os.PathLike):
        return GeoJSONStore(url_or_path, counties=counties, **options)
    if not isinstance(url_or_path, str) or not url_or_path.strip():
        raise _bad(str(url_or_path), "it is empty")
    url = url_or_path.strip()
    match = _SCHEME.match(url)
    if match is None:
        return GeoJSONStore(url, counties=counties, **options)
    scheme = match.group(1).lower()
    if scheme == "geojson":
        return GeoJSONStore(geojson_path(url), counties=counties, **options)
    if scheme in DATABASE_SCHEMES:
        return _database_opener(url, DATABASE_SCHEMES[scheme])(url, counties, **options)
    raise _bad(_redacted(url), f"unknown scheme {scheme!r}; known: geojson, {', '.join(DATABASE_SCHEMES)}")


def _database_opener(url: str, module_name: str) -> Callable[..., StationStore]:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise _bad(_redacted(url), f"the database store needs {exc.name!r}, which is not installed") from None
        raise _bad(_redacted(url), "this installation has no PostgreSQL/PostGIS store; "
                                   "use a file path or geojson:PATH") from None
    return module.open_url


def _redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)
