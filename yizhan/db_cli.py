"""``yizhan db load FILE`` and ``yizhan db dump``: a whole station store in and out.

Both work on the store of the site's settings (``STORE_URL``, env ``YIZHAN_STORE_URL``; ``--store``
overrides it): the PostgreSQL/PostGIS store or the GeoJSON file. ``load`` replaces every station
(one ``replace_all`` journal entry, validated first: nothing is written if any record is refused)
through :func:`stations.store.postgis.load` (COPY in batches, a progress bar); ``dump`` writes the
store as the file store writes its file, so a dump loaded into a file store and dumped again is byte
for byte the same.

A GeoJSON file in the store's own format (``yizhan db dump``, ``geodata/stations.geojson``) is loaded
as it is, keeping the collection's members (``name``...). Station lists as staff keep them (XLSX, CSV,
GeoJSON with Chinese headers, ``--via-import``) go through the import (``stations.importing``: headers,
values, positions and coordinate systems as ``yizhan import`` reads them); every row must be accepted.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import click

from .accounts_cli import db_group
from .cli import counties_option, fail, path_overrides, resolve_settings

store_option = click.option(
    "--store", "store_url", default=None, metavar="URL",
    help="The store: a PostgreSQL URL (postgresql+psycopg://user@host/db?schema=NAME) or a GeoJSON file path. "
         "Default: the STORE_URL setting (env YIZHAN_STORE_URL).")

#: extensions read as the store's own GeoJSON (loaded as they are); anything else goes through the import
GEOJSON_SUFFIXES = (".geojson", ".json")


def _open(store_url: str | None, counties_path: str | None):
    """(store, counties) of the settings, ``--store`` and ``--counties`` first; exits 1 naming a bad one."""
    from stations.counties import Counties
    from stations.errors import YizhanError
    from stations.store import open_store

    overrides = path_overrides(None, counties_path)
    if store_url:
        overrides["STORE_URL"] = store_url
    resolved = resolve_settings(overrides, prepare=False)
    try:
        counties = Counties.load(resolved["COUNTIES_PATH"])
        return open_store(resolved["STORE_URL"], counties=counties), counties
    except YizhanError as exc:
        fail(exc)


def _store_features(path: str) -> tuple[list, dict]:
    """(features, collection members) of a GeoJSON FeatureCollection file."""
    from stations.store.files import read_stations_text

    try:
        data = json.loads(read_stations_text(Path(path)))
    except json.JSONDecodeError as exc:
        fail(ValueError(f"{path}: not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"))
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        fail(ValueError(f"{path}: not a GeoJSON FeatureCollection"))
    members = {k: v for k, v in data.items() if k not in ("type", "features")}
    return data.get("features"), members


def _imported_features(path: str, counties, crs: str, sheet: str | None, encoding: str | None,
                       fix_swapped: bool, lang: str) -> list[dict]:
    """The stations of a staff list (read and checked by the import, as into an empty store)."""
    from stations.importing import ImportOptions, plan_import, read_table, report_text
    from stations.store import GeoJSONStore

    table = read_table(path, sheet=sheet, encoding=encoding)
    with tempfile.TemporaryDirectory(prefix="yizhan-load-") as folder:
        empty = GeoJSONStore(Path(folder) / "empty.geojson", counties=counties)  # no file: no stations
        plan = plan_import(table, empty, counties, ImportOptions(crs=crs, mode="replace", fix_swapped=fix_swapped))
    if not plan.can_apply:
        click.echo(report_text(plan, lang), err=True)
        fail(ValueError(f"{path}: {len(plan.rejected)} row(s) refused; nothing was loaded"))
    return [s.to_feature() for s in plan.stations_after([])]


@db_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--via-import", is_flag=True,
              help="Read a GeoJSON file as a staff list (Chinese or English property names) through the import; "
                   "XLSX and CSV always are.")
@click.option("--crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84", show_default=True,
              help="A list's coordinate system (converted to WGS-84); the store's GeoJSON is WGS-84.")
@click.option("--sheet", default=None, help="The XLSX sheet (default: the first with a header).")
@click.option("--encoding", default=None, help="A CSV's encoding (default: detected).")
@click.option("--fix-swapped", is_flag=True, help="Exchange latitude and longitude where only that puts a point "
                                                   "in a county.")
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=5000, show_default=True,
              help="Stations per COPY batch (a database store).")
@click.option("--who", default="", help="Name written into the journal (default: the system user).")
@click.option("--note", default=None, help="Note written into the journal entry.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The language of a refused list's report.")
@store_option
@counties_option
def db_load(file, via_import, crs, sheet, encoding, fix_swapped, batch_size, who, note, lang, store_url,
            counties_path):
    """Replace every station of the store with those of FILE (GeoJSON, XLSX, CSV): validated first, then
    written in one transaction as one journal entry (`store.revert` cannot undo it: keep a dump)."""
    from stations.errors import YizhanError
    from stations.store.postgis.bulk import load

    store, counties = _open(store_url, counties_path)
    started = time.perf_counter()
    try:
        with store:
            if Path(file).suffix.lower() in GEOJSON_SUFFIXES and not via_import:
                features, members = _store_features(file)
            else:
                features, members = _imported_features(file, counties, crs, sheet, encoding, fix_swapped, lang), None
            count = len(features) if isinstance(features, list) else 0
            click.echo(f"read {count:,} stations from {file} ({time.perf_counter() - started:.1f} s); "
                       "validating and writing ...", err=True)
            from .progress import progress_bar

            with progress_bar("writing", total=count or None) as progress:
                written = load(store, features, batch_size, progress, who=who, members=members,
                               note=note or f"yizhan db load {os.path.basename(file)}")
    except YizhanError as exc:
        fail(exc)
    click.echo(f"loaded {written:,} stations into {_where(store)} in {time.perf_counter() - started:.1f} s")


@db_group.command("dump")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--format", "fmt", type=click.Choice(["geojson"]), default="geojson", show_default=True,
              help="geojson: the file store's exact text (loads back unchanged).")
@store_option
@counties_option
def db_dump(out, fmt, store_url, counties_path):
    """Write every station of the store to OUT (default `-`, standard output) as the file store writes it."""
    from stations.errors import YizhanError
    from stations.store.files import atomic_write
    from stations.store.postgis.bulk import dump

    store, _ = _open(store_url, counties_path)
    try:
        with store:
            text = dump(store)
    except YizhanError as exc:
        fail(exc)
    if out == "-":
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
        return
    try:
        atomic_write(Path(out).resolve(), text)
    except OSError as exc:
        fail(exc)
    count = text.count('"type": "Feature"')  # each feature's, not the collection's "FeatureCollection"
    click.echo(f"wrote {count:,} stations to {out}", err=True)


def _where(store) -> str:
    return getattr(store, "source", None) or str(getattr(store, "path", store))
