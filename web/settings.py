"""Every setting of the site, declared once: name, default, type, meaning; read and checked at start-up.

A setting is a key of ``app.config``. Its value comes from the mapping given to ``create_app(config)``,
else from the environment variable ``YIZHAN_<NAME>``, else from its default (a value of ``None``
counts as not given). :func:`resolve` parses every value with its setting's parser and stops with a
:class:`SettingError` naming the setting, the value, where it came from and what is allowed. Modules
read the parsed values from ``app.config`` and never parse a setting themselves; the command line
(``yizhan.cli``) resolves the same table.

Environment values are text: lists may be JSON (``["a", "b"]``) or space/comma-separated, flags
``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``), mappings JSON objects.
``python scripts/settings_table.py`` prints the README's configuration table from :data:`SETTINGS`
(a test keeps the two equal). A new setting is one more :class:`Setting` in :data:`SETTINGS`.
"""
from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from stations.coverage import MAX_NEW_SITES
from stations.exporting import DEFAULT_ATTRIBUTION, DEFAULT_LICENSE

log = logging.getLogger(__name__)

ENV_PREFIX = "YIZHAN_"
#: gunicorn's ceiling for a request line (``yizhan serve`` sets it); ``MAX_URL_LENGTH`` stays below it.
SERVER_REQUEST_LINE_MAX = 8190
#: What starts Jinja syntax: text that folium renders must contain none of these (see ``web.maps``).
TEMPLATE_MARKERS = ("{{", "{%", "{#")
BASEMAP_NAMES = ("osm", "tianditu", "amap", "none")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
#: File names in the instance folder and in the bundled ``geodata`` package.
STATIONS_FILE = "stations.geojson"
COUNTIES_FILE = "counties.geojson"
WATER_FILE = "water.geojson"
#: the geocoder's cache in the instance folder (``stations.geocoding.GeocodeCache``)
GEOCODE_CACHE_FILE = "geocode-cache.sqlite3"
#: the walking router's cache in the instance folder (``stations.routing.Router``)
ROUTE_CACHE_FILE = "route-cache.sqlite3"
#: the accounts database's default file and the generated secret key's, in the instance folder
DATABASE_FILE = "yizhan.sqlite3"
SECRET_KEY_FILE = "secret_key"
#: shortest ``SECRET_KEY`` accepted (characters)
SECRET_KEY_MIN_CHARS = 32


class SettingError(ValueError):
    """A setting whose value cannot be used: names the setting, the value, its origin and what is allowed."""

    def __init__(self, name: str, value: Any, allowed: str, origin: str = "", problem: str = "is not allowed",
                 secret: bool = False):
        shown = "(hidden)" if secret else repr(_shorten(value))
        where = f" ({origin})" if origin else ""
        super().__init__(f"{name}={shown}{where} {problem}; allowed: {allowed}")
        self.name, self.value, self.allowed, self.origin = name, value, allowed, origin


def _shorten(value: Any, limit: int = 100) -> Any:
    return value[:limit] + "…" if isinstance(value, str) and len(value) > limit else value


# ---- parsers: a raw value (text from the environment, or a Python value from the config) -> the value

class Parser:
    """Turns a raw value into the setting's value, or raises ``ValueError``; ``allowed`` says what it takes."""

    allowed = "text"

    def __call__(self, raw: Any) -> Any:
        raise NotImplementedError


class Text(Parser):
    """A string; ``template_safe`` refuses Jinja delimiters (the value reaches folium's template)."""

    def __init__(self, template_safe: bool = False, optional: bool = False):
        self.template_safe, self.optional = template_safe, optional
        self.allowed = "text without '{{', '{%' or '{#'" if template_safe else "text"

    def __call__(self, raw: Any) -> str | None:
        if not isinstance(raw, str):
            raise ValueError
        if self.template_safe and any(m in raw for m in TEMPLATE_MARKERS):
            raise ValueError
        return (raw or None) if self.optional else raw


class Whole(Parser):
    def __init__(self, low: int, high: int):
        self.low, self.high = low, high
        self.allowed = f"a whole number from {low:,} to {high:,}"

    def __call__(self, raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            raw = int(raw.strip())
        if not isinstance(raw, int) or not self.low <= raw <= self.high:
            raise ValueError
        return raw


class Number(Parser):
    def __init__(self, low: float, high: float):
        self.low, self.high = low, high
        self.allowed = f"a number from {low:,g} to {high:,g}"

    def __call__(self, raw: Any) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise ValueError
        value = float(raw)
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ValueError
        return value


class Flag(Parser):
    allowed = "true or false (also 1/0, yes/no, on/off)"
    WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}

    def __call__(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in self.WORDS:
            return self.WORDS[raw.strip().lower()]
        raise ValueError


class Choice(Parser):
    def __init__(self, *choices: str):
        self.choices = choices
        self.allowed = ", ".join(choices)

    def __call__(self, raw: Any) -> str:
        value = raw.strip().lower() if isinstance(raw, str) else raw
        if value not in self.choices:
            raise ValueError
        return value


def split_list(raw: Any) -> list[str]:
    """A list from a list, a JSON list, or a space/comma-separated string."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            raw = json.loads(text)  # ValueError on bad JSON
        else:
            return [v for v in text.replace(",", " ").split() if v]
    if not isinstance(raw, (list, tuple)) or not all(isinstance(v, str) for v in raw):
        raise ValueError
    return [v.strip() for v in raw if v.strip()]


class TextList(Parser):
    """A list of strings, each checked by ``item`` (which may normalise it)."""

    def __init__(self, item: Callable[[str], str] | None = None, item_allowed: str = "", non_empty: bool = False):
        self.item, self.non_empty = item, non_empty
        self.allowed = ("a non-empty " if non_empty else "a ") + "list (JSON, or separated by spaces or commas)"
        if item_allowed:
            self.allowed += f" of {item_allowed}"

    def __call__(self, raw: Any) -> list[str]:
        values = split_list(raw)
        if self.item is not None:
            values = [self.item(v) for v in values]
        if self.non_empty and not values:
            raise ValueError
        return list(dict.fromkeys(values))


class Url(Parser):
    def __init__(self, schemes: tuple[str, ...] = ("http", "https"), example: str = "https://yizhan.example.cn"):
        self.schemes = schemes
        self.allowed = f"an {'/'.join(schemes)} URL such as {example}"

    def __call__(self, raw: Any) -> str | None:
        if not isinstance(raw, str):
            raise ValueError
        text = raw.strip()
        if not text:
            return None
        parts = urlsplit(text)
        if parts.scheme not in self.schemes or not parts.hostname:
            raise ValueError
        return text.rstrip("/")


class FilePath(Parser):
    """A file-system path, made absolute (a worker or child process may run in another directory)."""

    allowed = "a file-system path"

    def __call__(self, raw: Any) -> str:
        if not isinstance(raw, (str, os.PathLike)) or not str(raw).strip():
            raise ValueError
        return os.path.abspath(os.path.expanduser(str(raw).strip()))


class OptionalFilePath(FilePath):
    """A file-system path, or ``none`` for no file."""

    allowed = "a file-system path, or none"

    def __call__(self, raw: Any) -> str | None:
        if isinstance(raw, str) and raw.strip().lower() == "none":
            return None
        return super().__call__(raw)


class RateLimit(Parser):
    allowed = "a rate such as 20/minute or 20/minute;200/day"

    def __call__(self, raw: Any) -> str:
        from limits import parse_many
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError
        parse_many(raw)  # ValueError on bad syntax
        return raw.strip()


class StorageUri(Parser):
    allowed = "a Flask-Limiter storage URI such as memory:// or redis://host:6379"

    def __call__(self, raw: Any) -> str:
        if not isinstance(raw, str) or "://" not in raw:
            raise ValueError
        return raw.strip()


class SourceMap(Parser):
    """A mapping of CSP directive -> sources (a JSON object in the environment)."""

    allowed = 'a JSON object of directive -> sources, e.g. {"report-uri": ["/csp-report"]}'

    def __call__(self, raw: Any) -> dict[str, list[str]]:
        if isinstance(raw, str):
            raw = json.loads(raw) if raw.strip() else {}
        if not isinstance(raw, Mapping):
            raise ValueError
        out = {}
        for key, sources in raw.items():
            if not isinstance(key, str) or not key.strip() or any(c in key for c in ";, "):
                raise ValueError
            out[key.strip()] = split_list(sources)
        return out


class DatabaseUrl(Parser):
    """An SQLAlchemy URL of the accounts database: SQLite (path made absolute) or PostgreSQL (psycopg 3)."""

    allowed = ("an SQLAlchemy URL: sqlite:///PATH, or postgresql+psycopg://user:password@host:5432/database "
               "(postgresql:// means the same)")

    def __call__(self, raw: Any) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if not isinstance(raw, str) or not raw.strip():
            raise ValueError
        try:
            url = make_url(raw.strip())
        except ArgumentError:
            raise ValueError from None
        backend = url.get_backend_name()
        if backend == "sqlite":
            if url.drivername not in ("sqlite", "sqlite+pysqlite") or not url.database or url.database == ":memory:":
                raise ValueError  # an in-memory database would be a new, empty one per connection
            url = url.set(drivername="sqlite", database=os.path.abspath(os.path.expanduser(url.database)))
        elif backend == "postgresql":
            if url.drivername not in ("postgresql", "postgresql+psycopg") or not url.database:
                raise ValueError
            url = url.set(drivername="postgresql+psycopg")
        else:
            raise ValueError
        return url.render_as_string(hide_password=False)


class StoreUrl(Parser):
    """Where the stations live: a file path or ``geojson:PATH`` (the GeoJSON file store; made absolute), or a
    PostgreSQL URL (the PostGIS store, ``stations.store.postgis``; ``open_store`` opens either)."""

    allowed = ("a file path or geojson:PATH (the GeoJSON file store), or a PostgreSQL URL "
               "postgresql+psycopg://user:password@host:5432/database, optionally ?schema=NAME (the PostGIS store; "
               "postgresql:// and postgis:// mean the same)")

    def __call__(self, raw: Any) -> str:
        from stations.errors import ValidationError
        from stations.store.factory import DATABASE_SCHEMES, geojson_path

        if isinstance(raw, os.PathLike):
            return FilePath()(raw)
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError
        text = raw.strip()
        scheme, colon, _ = text.partition(":")
        scheme = scheme.lower() if colon and len(scheme) > 1 else ""  # one letter: a Windows drive, C:\\
        try:
            if scheme == "geojson":
                return FilePath()(str(geojson_path(text)))
            if scheme in DATABASE_SCHEMES:
                from stations.store.postgis.engine import parse_url
                parse_url(text)  # ValidationError for a malformed URL or schema name
                return text
        except ValidationError:
            raise ValueError from None
        if scheme and "/" not in scheme and "\\" not in scheme:
            raise ValueError  # another scheme: not a path either
        return FilePath()(text)


class SecretKey(Parser):
    allowed = f"a random text of at least {SECRET_KEY_MIN_CHARS} characters"

    def __call__(self, raw: Any) -> str:
        if not isinstance(raw, str) or len(raw.strip()) < SECRET_KEY_MIN_CHARS:
            raise ValueError
        return raw.strip()


def _origin(entry: str) -> str:
    """``*``, or a web origin ``scheme://host[:port]`` (no path), lower-cased."""
    text = entry.strip()
    if text == "*":
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username:
        raise ValueError
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _frame_source(entry: str) -> str:
    """``*``, or an origin ``scheme://host[:port]`` whose host may start with ``*.`` (every subdomain)."""
    text = entry.strip()
    if text == "*":
        return text
    wild = "://*." in text
    origin = _origin(text.replace("://*.", "://wildcard.", 1) if wild else text)
    return origin.replace("://wildcard.", "://*.", 1) if wild else origin


def _host(entry: str) -> str:
    from .hosts import normalise_host  # ValueError for anything but a host name or IP address
    return normalise_host(entry)


# ---- defaults computed from other settings --------------------------------------------------------

@dataclass(frozen=True)
class Derived:
    """A default computed from the settings resolved before it (``text`` documents it)."""

    text: str
    compute: Callable[[dict[str, Any]], Any]


def default_instance_path() -> str:
    """Flask's instance folder of the site: ``instance/`` beside the source tree, ``<prefix>/var/web-instance``
    when installed."""
    from flask import Flask
    return Flask("web").instance_path


def bundled_counties_path() -> str:
    import geodata
    return str(geodata.bundled_file(COUNTIES_FILE))


def bundled_water_path() -> str | None:
    """The bundled water layer (``yizhan build-geodata --water``), if one was built; else None."""
    import geodata
    path = geodata.bundled_file(WATER_FILE)
    return str(path) if path.is_file() else None


@dataclass(frozen=True)
class Setting:
    """One setting: its ``app.config`` key, default (parsed form, or :class:`Derived`), parser and meaning."""

    name: str
    default: Any
    parse: Parser
    meaning: str
    secret: bool = False  # the value is never shown (errors, logs)

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name


SETTINGS: tuple[Setting, ...] = (
    # ---- data
    Setting("INSTANCE_PATH", Derived("Flask's instance folder: `instance/` beside the source tree, "
                                     "`<prefix>/var/web-instance` when installed", lambda v: default_instance_path()),
            FilePath(), "the site's own writable folder: the station store and its journal by default"),
    Setting("STATIONS_PATH", Derived("`<INSTANCE_PATH>/stations.geojson`",
                                     lambda v: os.path.join(v["INSTANCE_PATH"], STATIONS_FILE)), FilePath(),
            "the station store (GeoJSON, WGS-84; its journal `journal.jsonl` beside it). The default is created "
            "on first start from the bundled sample; any other path must exist and be readable"),
    Setting("STORE_URL", Derived("`STATIONS_PATH` (the GeoJSON file store)", lambda v: v["STATIONS_PATH"]),
            StoreUrl(),
            "where the stations live: the GeoJSON file store, or a PostgreSQL/PostGIS database (several app servers, "
            "national data; its tables made by `stations.store.postgis.upgrade`, see Deploying)", secret=True),
    Setting("COUNTIES_PATH", Derived("the bundled `geodata/counties.geojson`", lambda v: bundled_counties_path()),
            FilePath(), "county outlines (GeoJSON, WGS-84); read only. A file over 2 MB (the country's) gets its "
            "outlines cached beside it, `.<name>.wkb`, where the folder is writable: read in a fraction of a second "
            "instead of ~10 s per process"),
    Setting("WATER_MASK_PATH", Derived("the bundled `geodata/water.geojson` if one was built, else none",
                                       lambda v: bundled_water_path()), OptionalFilePath(),
            "water (lakes, reservoirs) taken out of the counties' land in the planners' coverage: a polygon layer, "
            "GeoJSON in WGS-84 or a GeoPackage/Shapefile in any CRS; `none`: every county's whole outline counts "
            "as land"),
    Setting("DATABASE_URL", Derived(f"`sqlite:///<INSTANCE_PATH>/{DATABASE_FILE}`",
                                    lambda v: "sqlite:///" + os.path.join(v["INSTANCE_PATH"], DATABASE_FILE)),
            DatabaseUrl(),
            "the accounts database: users, roles, API tokens, the sign-in log, workers' reports (never the "
            "stations). `yizhan serve` brings it to the current migration at start, as `yizhan db upgrade` does",
            secret=True),
    Setting("CITY_NAME", "济宁市", Text(), "the city named in the pages' titles"),
    Setting("DEFAULT_LANG", "zh", Choice("zh", "en"), "the pages' language unless `?lang=` or the cookie says"),
    # ---- the map
    Setting("BASEMAP", "osm", Choice(*BASEMAP_NAMES),
            "`tianditu` needs `TIANDITU_KEY` (the usual choice for government sites, whose basemap carries an "
            "approval number); `amap` has GCJ-02 tiles: every marker and shape is then drawn in GCJ-02"),
    Setting("TIANDITU_KEY", "", Text(template_safe=True), "Tianditu `tk` key"),
    Setting("TILE_URL", None, Text(template_safe=True, optional=True),
            "overrides the basemap's tile URL template (e.g. a local tile server); Leaflet's single-brace "
            "placeholders `{z}/{x}/{y}`"),
    Setting("TILE_ATTRIBUTION", None, Text(template_safe=True, optional=True),
            "attribution text shown on the map (default: the basemap's)"),
    Setting("TILE_HOSTS", None, TextList(),
            "origins the tiles come from, for the Content-Security-Policy (default: from `TILE_URL`, else the "
            "basemap's)"),
    Setting("MAP_INLINE_MAX", 3000, Whole(0, 10_000_000),
            "above this many stations the map page carries none and loads the visible area's markers from "
            "`/api/map/markers?bbox=`"),
    Setting("MAP_REMOTE_MIN_ZOOM", 11, Whole(0, 19),
            "the zoom level from which a map above `MAP_INLINE_MAX` loads the visible area's stations"),
    Setting("EMBED_ALLOWED_ORIGINS", ["*"],
            TextList(_frame_source, "origins such as https://www.zoucheng.gov.cn or https://*.jining.gov.cn, or `*`"),
            "web sites (origins) that may frame the embeddable map `/embed` (`frame-ancestors`): `*` any site; a "
            "list limits it (the site itself stays allowed); `[]` only the site itself. Every other page may be "
            "framed by the site itself only (`frame-ancestors 'self'`, `X-Frame-Options: SAMEORIGIN`)"),
    Setting("CSP_EXTRA", {}, SourceMap(), "directives and sources added to the Content-Security-Policy"),
    # ---- geocoding (the import's address lookup, the place search; keys stay on the server)
    Setting("GEOCODER", "auto", Choice("auto", "tianditu", "amap", "baidu", "nominatim", "none"),
            "who turns addresses into positions (`yizhan import`, the staff's and the map's lookups): `auto` the first "
            "provider with a key (Tianditu, AMap, Baidu), else Nominatim (OpenStreetMap, no key; 1 request/s)"),
    Setting("TIANDITU_SERVER_KEY", Derived("the `TIANDITU_KEY`", lambda v: v["TIANDITU_KEY"]), Text(),
            "Tianditu `tk` of the server type (服务器端) for geocoding; its answers are CGCS2000, used as WGS-84",
            secret=True),
    Setting("AMAP_KEY", "", Text(), "AMap (高德) web service key (Web服务) for geocoding and walking routes; its "
            "answers are GCJ-02, converted to WGS-84", secret=True),
    Setting("BAIDU_KEY", "", Text(), "Baidu Maps `ak` for geocoding; its answers are BD-09, converted to WGS-84",
            secret=True),
    Setting("GEOCODER_URL", None, Url(example="http://127.0.0.1:8080"),
            "replaces the geocoder's host (a proxy, a self-hosted Nominatim, a test server)"),
    Setting("GEOCODER_CACHE_PATH", Derived("`<INSTANCE_PATH>/geocode-cache.sqlite3`",
                                           lambda v: os.path.join(v["INSTANCE_PATH"], GEOCODE_CACHE_FILE)),
            FilePath(), "the geocoder's answers, kept on disk (SQLite) so that nothing is asked twice"),
    Setting("GEOCODER_MIN_DELAY_S", 1.0, Number(0, 60), "seconds between two requests to the geocoder (politeness; "
            "Nominatim's policy asks for 1)"),
    Setting("GEOCODER_TIMEOUT_S", 10.0, Number(0.5, 120), "seconds to wait for one geocoder answer"),
    # ---- walking routes (the nearest stations' walking distance and time; the key stays on the server)
    Setting("ROUTING", "auto", Choice("auto", "amap", "none"),
            "who plans the walk to the nearest stations (`/api/route`): `amap` AMap's walking route (needs "
            "`AMAP_KEY`); `auto` AMap when `AMAP_KEY` is set, else `none`; `none` the straight line, labelled as "
            "such. (Tianditu plans driving and public transport only.)"),
    Setting("ROUTING_URL", None, Url(example="http://127.0.0.1:8080"),
            "replaces the router's host `https://restapi.amap.com` (a proxy, a test server)"),
    Setting("ROUTING_CACHE_PATH", Derived(f"`<INSTANCE_PATH>/{ROUTE_CACHE_FILE}`",
                                          lambda v: os.path.join(v["INSTANCE_PATH"], ROUTE_CACHE_FILE)),
            FilePath(), "the walking routes, kept on disk (SQLite) for 30 days per origin (rounded to about 100 m) "
            "and station"),
    Setting("ROUTING_MIN_DELAY_S", 0.2, Number(0, 60), "seconds between two requests to the router"),
    Setting("ROUTING_TIMEOUT_S", 5.0, Number(0.5, 60),
            "seconds to wait for one route; then the straight line is shown"),
    Setting("LOOKUP_RATE_LIMIT", "30/minute", RateLimit(),
            "place searches and walking routes a client may have asked of the geocoder or the router (answers "
            "from the cache do not count: `/api/places`, `/api/route`, the list's place search); then 429 with "
            "`Retry-After`"),
    # ---- open data
    Setting("CORS_ORIGINS", ["*"], TextList(_origin, "origins such as https://www.zoucheng.gov.cn, or `*`"),
            "web pages (origins) whose scripts may read the public API (`/api`) and the OGC API (`/ogc`): `*` any "
            "site; `[]` none. Only GET, HEAD and their preflight: nothing that writes is ever allowed across sites"),
    Setting("DATA_ATTRIBUTION", DEFAULT_ATTRIBUTION, Text(),
            "whom to credit for the station data: written into every export and the OGC API's collections"),
    Setting("DATA_LICENSE", DEFAULT_LICENSE, Text(),
            "the station data's licence (an SPDX id such as CC-BY-4.0, or a text): written into every export "
            "and the OGC API's collections"),
    # ---- hosts and requests
    Setting("PUBLIC_URL", None, Url(),
            "the site's public base URL, used in share links and QR codes; its host is always trusted "
            "(default: the request's URL)"),
    Setting("TRUSTED_HOSTS", list(LOOPBACK_HOSTS),
            TextList(_host, "host names or IP addresses (ports are ignored; `.example.cn` takes every subdomain)"),
            "the hosts the site answers for; any other `Host` gets a 400. A setting replaces the default"),
    Setting("PROXY_COUNT", 0, Whole(0, 5),
            "reverse proxies in front (nginx: `1`): from that many hops werkzeug's ProxyFix trusts "
            "`X-Forwarded-For` (the client address, e.g. for the rate limits) and `X-Forwarded-Proto` (https: "
            "secure links and HSTS); `X-Forwarded-Host`, `-Port` and `-Prefix` are never trusted"),
    Setting("MAX_URL_LENGTH", 4096, Whole(256, SERVER_REQUEST_LINE_MAX - 20),
            "longest path + query string, bytes; longer gets the site's own 414"),
    # ---- staff sign-in
    Setting("SECRET_KEY", Derived(f"generated on first use into `<INSTANCE_PATH>/{SECRET_KEY_FILE}` (mode 0600); "
                                  "`yizhan serve` refuses to start without a value unless given "
                                  "`--instance-secret-key` (`make run`)", lambda v: None),
            SecretKey(),
            "signs the session cookies and CSRF tokens: a long random text, the same on every server of the "
            "site (`python -c 'import secrets; print(secrets.token_urlsafe(48))'`); changing it signs everyone out",
            secret=True),
    Setting("SESSION_LIFETIME_H", 12, Number(0.1, 24 * 90),
            "hours a staff sign-in lasts after the last request; then the staff member signs in again"),
    Setting("LOGIN_FAILURE_LIMIT", "5 per 15 minutes", RateLimit(),
            "failed sign-ins allowed per account and, separately, per client address; beyond them every "
            "sign-in of that account or client is refused with 429 and `Retry-After` until the window ends "
            "(counted where `RATELIMIT_STORAGE_URI` says; off with `RATELIMIT_ENABLED=false`)"),
    # ---- workers' reports
    Setting("REPORT_RATE_LIMIT", "5/hour", RateLimit(),
            "workers' reports (`/stations/<id>/report`, `POST /api/stations/<id>/reports`) one client may file; "
            "then 429 with `Retry-After` (counted under a keyed hash of the address, where `RATELIMIT_STORAGE_URI` "
            "says)"),
    Setting("REPORT_STATION_RATE_LIMIT", "30/hour", RateLimit(),
            "workers' reports one station may get, from all clients together; then 429 with `Retry-After`"),
    # ---- station lists imported from the site (/manage/import)
    Setting("IMPORT_MAX_BYTES", 10 * 1024 * 1024, Whole(1024, 200 * 1024 * 1024),
            "largest station list (XLSX, CSV, GeoJSON) staff may upload on `/manage/import`, bytes; a larger "
            "upload gets the site's own 413"),
    Setting("IMPORT_KEEP_MIN", 120, Whole(5, 7 * 24 * 60),
            "minutes an uploaded list is kept (in `<INSTANCE_PATH>/imports/`, under a random name) between its dry "
            "run and its confirmation; it is deleted when the import is confirmed, or after this time"),
    # ---- work per request
    Setting("RADIUS_STEP_M", 100, Number(1, 5000),
            "coverage radii are rounded to a multiple of this (1234 → 1200): one analysis and cache entry per step"),
    Setting("COVERAGE_MAX_NEW_SITES", 100, Whole(0, MAX_NEW_SITES),
            "most new sites a web request may ask to suggest (`yizhan coverage`: 1000)"),
    Setting("COVERAGE_MAX_CANDIDATES", 10_000, Whole(100, 1_000_000),
            "candidate grid of the web's siting (coarser past it)"),
    Setting("COVERAGE_MAX_DEMAND_POINTS", 50_000, Whole(100, 5_000_000),
            "demand grid of the web's siting (coarser past it)"),
    Setting("COVERAGE_TIME_BUDGET_S", 8, Number(0, 600),
            "a request waits this long for an analysis, then answers 503 with `Retry-After` while it goes on"),
    Setting("COVERAGE_QUEUE_MAX", 2, Whole(1, 100),
            "per server process: analyses queued or running, and requests waiting for them; more get 503 at once"),
    Setting("COVERAGE_WORKERS", 1, Whole(1, 32), "analyses run in this many processes (or threads) per server process"),
    Setting("COVERAGE_EXECUTOR", "process", Choice("process", "thread"),
            "`process`: niced child processes (the CPU-bound work neither holds the server's GIL nor outranks "
            "cheap requests); `thread`: threads"),
    Setting("COVERAGE_PRECOMPUTE_S", 60, Number(0, 86400),
            "a server computes the planner's default view ahead, at its start and when the store changes, at most "
            "once per this many seconds (`/planning` shows the last figures with their age meanwhile); `0`: never"),
    Setting("COVERAGE_RATE_LIMIT", "20/minute", RateLimit(),
            "analyses a client may start (cache misses on `/planning`, its downloads, `/api/coverage`, "
            "`/api/coverage/gaps`); then 429 with `Retry-After`"),
    Setting("RATELIMIT_ENABLED", True, Flag(), "`false` switches the rate limits off (Flask-Limiter's key)"),
    Setting("RATELIMIT_STORAGE_URI", "memory://", StorageUri(),
            "where the rate-limit counts live: per server process by default; `redis://host:6379` shares them"),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


# ---- resolving ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Resolved:
    """The parsed value of every setting, where each came from, and other config keys passed through."""

    values: dict[str, Any]
    origins: dict[str, str]   # name -> "config", "environment" or "default"
    extra: dict[str, Any]     # keys of ``config`` and ``YIZHAN_*`` variables that are not Yizhan settings

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def resolve(config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Resolved:
    """Every setting of :data:`SETTINGS`: from ``config``, else ``YIZHAN_<NAME>`` in ``environ``, else the default.

    Raises :class:`SettingError` for the first value that cannot be used. Keys of ``config`` that are
    not settings (Flask's own such as ``TESTING``) and ``YIZHAN_*`` variables that are not (JSON-decoded
    where they parse, as Flask's ``from_prefixed_env``) are returned in ``extra``; an unknown variable
    is logged, since it is usually a typing mistake.
    """
    config = dict(config or {})
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for setting in SETTINGS:
        raw, origin = config.get(setting.name), "config"
        if raw is None:
            raw, origin = environ.get(setting.env), "environment"
            if raw is not None and not raw.strip():
                raw = None  # an empty variable counts as not set (an empty list is `[]`)
        if raw is None:
            origins[setting.name] = "default"
            default = setting.default
            values[setting.name] = default.compute(values) if isinstance(default, Derived) else _copy(default)
            continue
        origins[setting.name] = origin
        try:
            values[setting.name] = setting.parse(raw)
        except (TypeError, ValueError, KeyError):
            where = f"from the environment variable {setting.env}" if origin == "environment" else ""
            raise SettingError(setting.name, raw, setting.parse.allowed, where, secret=setting.secret) from None
    _check_together(values)
    extra = {k: v for k, v in config.items() if k not in BY_NAME}
    for key, text in environ.items():
        name = key[len(ENV_PREFIX):]
        if key.startswith(ENV_PREFIX) and name not in BY_NAME and name not in extra:
            log.warning("%s is not a Yizhan setting (see the README's table); passed to Flask as %s", key, name)
            try:
                extra[name] = json.loads(text)
            except ValueError:
                extra[name] = text
    return Resolved(values, origins, extra)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def _check_together(values: dict[str, Any]) -> None:
    if not values["TRUSTED_HOSTS"] and not values["PUBLIC_URL"]:
        raise SettingError("TRUSTED_HOSTS", [], "a list of host names, e.g. yizhan.example.cn, or a PUBLIC_URL",
                           problem="is empty and PUBLIC_URL is not set: no request could be answered")
    if values["ROUTING"] == "amap" and not values["AMAP_KEY"]:
        raise SettingError("AMAP_KEY", "", "an AMap web service key (Web服务)", secret=True,
                           problem="is empty: ROUTING=amap needs it")


# ---- the README's table -------------------------------------------------------------------------

def _default_text(setting: Setting) -> str:
    default = setting.default
    if isinstance(default, Derived):
        return default.text
    if default is None:
        return "none"
    if default == "":
        return "empty"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, list):
        return f"`{' '.join(default)}`"
    if isinstance(default, dict):
        return f"`{json.dumps(default)}`"
    return f"`{default}`"


def markdown_table() -> str:
    """The README's configuration table: one row per setting, in :data:`SETTINGS` order."""
    rows = ["| setting (env `YIZHAN_…`) | default | allowed | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        cells = [f"`{s.name}`", _default_text(s), s.parse.allowed, s.meaning]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
