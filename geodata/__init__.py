"""Bundled data (GeoJSON, WGS-84): Jining's county outlines and the sample stations; see README.md.

The files are package data, opened as package resources, so the site works wherever it is
installed. ``counties.geojson`` is read in place (read only); ``stations.geojson`` is only the seed
of the live store, which ``web.datafiles`` copies into the instance folder on first start.
"""
from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path

_extracted = ExitStack()  # only used if the package is not on a file system (a zip): closed at exit
atexit.register(_extracted.close)


def bundled_file(name: str) -> Path:
    """A file-system path of the bundled file ``name`` (e.g. ``"counties.geojson"``)."""
    resource = files(__name__).joinpath(name)
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(as_file(resource))
