#!/usr/bin/env python
"""Build geodata/water.geojson (WGS-84 water polygons for the coverage's land area) from a polygon file.

Usage: python scripts/build_water.py SOURCE [--crs gcj02] [--license TEXT] [--source-name TEXT]
                                     [--counties geodata/counties.geojson] [--out geodata/water.geojson]
The same as `yizhan build-geodata --water SOURCE`. Use only a source whose licence allows it, and record
its provenance in geodata/README.md. No source is bundled: see geodata/README.md, "water.geojson".
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stations.counties import Counties  # noqa: E402
from stations.errors import YizhanError  # noqa: E402
from stations.water import write_water  # noqa: E402

GEODATA = Path(__file__).resolve().parent.parent / "geodata"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="polygon file: GeoJSON (WGS-84), GeoPackage or Shapefile (any CRS)")
    parser.add_argument("--crs", choices=("wgs84", "gcj02"), default="wgs84", help="the source's degrees")
    parser.add_argument("--license", default=None, help="the source's licence, written into the layer")
    parser.add_argument("--source-name", default=None, help="where the water came from, written into the layer")
    parser.add_argument("--counties", default=str(GEODATA / "counties.geojson"), help="county outlines to clip to")
    parser.add_argument("--out", default=str(GEODATA / "water.geojson"), help="output GeoJSON path")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        doc = write_water(args.source, args.out, Counties.load(args.counties), crs=args.crs, license=args.license,
                          source=args.source_name)
    except (YizhanError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(doc['features'])} feature(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
