"""The static export (``yizhan export-html``): one county's embeddable map as a folder of files.

For sites that cannot frame another server: the folder holds ``index.html`` (the ``/embed`` page of the
county, rendered as the site renders it, with ``export`` on: no API URL, "find the nearest" searching the
page's own stations in the browser), the site's own JS and CSS and the vendored libraries it loads
(copied from ``web/static``, under ``assets/``), the county's stations as GeoJSON (``data/``, with the
attribution, licence, dates and sample notice of every export) and ``README.txt`` (Chinese and English:
when, from what data, how to refresh). It works from any static web server and asks nothing of the
site; only the basemap's tiles come from outside.
"""
from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.datastructures import MultiDict

from stations import i18n as catalogue

from .assets import STATIC_DIR

log = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
ASSETS_DIR = "assets"
DATA_FILE = "data/stations.geojson"
README_FILE = "README.txt"
#: a site-relative static URL in the page (``/static/js/map.js?v=0123abcd``), quoted
_STATIC_URL = re.compile(r"""(["'])/static/([^"'?#]+)(?:\?v=[0-9A-Za-z]+)?\1""")


@dataclass(frozen=True)
class Exported:
    """What :func:`export_html` wrote."""

    out: Path
    county: str
    county_name: str
    stations: int
    sample: bool
    files: tuple[str, ...]


def relative_assets(html: str) -> tuple[str, list[str]]:
    """``html`` with every ``/static/...`` URL made relative (``assets/...``, no version), and those files."""
    found: list[str] = []

    def swap(m: re.Match) -> str:
        rel = m.group(2)
        if rel not in found:
            found.append(rel)
        return f"{m.group(1)}{ASSETS_DIR}/{rel}{m.group(1)}"

    return _STATIC_URL.sub(swap, html), found


def _copy_assets(rels: list[str], out: Path) -> list[str]:
    """Copy the page's static files; a vendored library comes whole (its CSS loads images beside it)."""
    copied: list[str] = []
    for rel in rels:
        parts = Path(rel).parts
        source = STATIC_DIR / rel
        if parts[0] == "vendor" and len(parts) > 2:
            folder = STATIC_DIR / parts[0] / parts[1]
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.suffix != ".gz":
                    target = out / ASSETS_DIR / path.relative_to(STATIC_DIR)
                    if not target.exists():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(path, target)
                        copied.append(str(target.relative_to(out)))
            continue
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing (run `make assets`)")
        target = out / ASSETS_DIR / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(str(target.relative_to(out)))
    return copied


def readme_text(*, county: str, county_name: str, n: int, sample: bool, source: str, data_date: str | None,
                exported_at: datetime, command: str) -> str:
    """``README.txt``: what the folder is, when and from what it was exported, how to refresh it (zh, then en)."""
    blocks = []
    for lang in catalogue.LANGS:
        def t(key: str, **values: Any) -> str:
            return catalogue.gettext(key, lang, **values)
        lines = [t("export.readme.title"), "=" * 40, "", t("export.readme.what"), "",
                 t("export.readme.when", time=exported_at.strftime("%Y-%m-%d %H:%M")),
                 t("export.readme.county", county=county_name, code=county, n=n),
                 t("export.readme.source", source=source, date=data_date or "-"),
                 t("export.readme.sample") if sample else t("export.readme.real"),
                 t("export.readme.hours"), "", t("export.readme.refresh"), "", f"    {command}", ""]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def export_html(app: Flask, county: str, out: Path, lang: str = "zh", now: datetime | None = None) -> Exported:
    """Write the static export of ``county`` (adcode or exact name) into the folder ``out``.

    ``out`` may exist; what an earlier export wrote there is replaced (``index.html``, ``assets/``,
    ``data/``, ``README.txt``), nothing else is touched. A county not in the data raises the request
    layer's ``ParameterError`` naming it.
    """
    from stations.exporting import export_stations

    from .opendata import export_info
    from .pages import render_map_page
    from .requests.queries import EmbedQuery
    from .state import state

    base = (app.config.get("PUBLIC_URL") or "http://localhost").rstrip("/")
    with app.test_request_context("/embed", base_url=base, query_string={"county": county, "lang": lang}):
        query = EmbedQuery.from_args(MultiDict({"county": county, "lang": lang}))
        html = render_map_page("embed.html", query, embed=True, export=True)
        st = state()
        stations = list(st.store.query(county=query.county))
        name = st.counties.name(query.county)
        info = export_info(stations)
        geojson = export_stations(stations, "geojson", info, counties=st.counties, lang=lang)
    html, rels = relative_assets(html)
    out.mkdir(parents=True, exist_ok=True)
    for old in (out / ASSETS_DIR, out / "data"):
        if old.is_dir():
            shutil.rmtree(old)
    files = ["index.html", *_copy_assets(rels, out), DATA_FILE, README_FILE]
    (out / "index.html").write_text(html, encoding="utf-8")
    (out / DATA_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out / DATA_FILE).write_bytes(geojson)
    moment = (now or datetime.now(TZ)).astimezone(TZ)
    sample = any(s.sample for s in stations)
    command = f"yizhan export-html --county {query.county}" + (f" --lang {lang}" if lang != "zh" else "") + f" {out}"
    (out / README_FILE).write_text(readme_text(
        county=query.county, county_name=name, n=len(stations), sample=sample,
        source=app.config["DATA_ATTRIBUTION"], data_date=info.data_date, exported_at=moment, command=command),
        encoding="utf-8")
    log.info("exported %s (%s stations) to %s", query.county, len(stations), out)
    return Exported(out, query.county, name, len(stations), sample, tuple(files))
