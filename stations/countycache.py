"""A counties file's outlines kept beside it in binary (WKB): the country's read in a second, not ten.

The country's 2,875 county outlines are a 95 MB GeoJSON file (4.2 million positions): parsing it and
building the shapely geometries takes ~10 s of CPU in every process that loads it (each server worker,
each analysis process); this cache reads in well under a second. It is ``.<file name>.wkb`` in the same
folder, written atomically by the first process that parsed the file, and used only if it was made
from exactly these bytes (the SHA-256 of the file, read at every use: ~0.2 s per 100 MB) in this
format, with its own bytes intact (the SHA-256 of everything after its header). Anything else (no
cache, another file, a cut-short or damaged cache, a folder that is not writable) means the file is
parsed as before; a cache that cannot be written is logged and skipped. Files under ``MIN_BYTES``
get none: they parse in milliseconds.

Layout: ``MAGIC``, 8 bytes of header length (little-endian), a JSON header (the file's SHA-256, the
payload's SHA-256, per county its adcode, name, area, population and its outline's length in bytes),
then the outlines as WKB, one after the other. WKB keeps every coordinate's double exactly, so the
outlines are the ones the file gives.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import shapely

log = logging.getLogger(__name__)

MAGIC = b"YIZHAN-COUNTIES1"
FORMAT = 1
#: counties files smaller than this get no cache: they parse in milliseconds
MIN_BYTES = 2_000_000
_FIELDS = ("adcode", "name", "area_km2", "population")


def cache_path(path: Path) -> Path:
    """Where the cache of the counties file ``path`` lives: ``.<name>.wkb`` beside it."""
    return path.with_name(f".{path.name}.wkb")


def file_digest(raw: bytes) -> str | None:
    """The key of a counties file's bytes, or ``None`` when the file is too small to be worth a cache."""
    return hashlib.sha256(raw).hexdigest() if len(raw) >= MIN_BYTES else None


def read(path: Path, digest: str) -> list[dict] | None:
    """The county records (``adcode``, ``name``, ``area_km2``, ``population``, ``geometry``) cached for
    the file ``path`` whose bytes have the SHA-256 ``digest``; ``None`` if there is no such cache."""
    where = cache_path(path)
    try:
        blob = where.read_bytes()
    except OSError:
        return None
    try:
        if not blob.startswith(MAGIC):
            raise ValueError("not a counties cache")
        start = len(MAGIC) + 8
        size = int.from_bytes(blob[len(MAGIC):start], "little")
        header = json.loads(blob[start:start + size])
        payload = memoryview(blob)[start + size:]
        if header.get("format") != FORMAT or header.get("file_sha256") != digest:
            return None  # made from another file, or by another version: parsed again, then replaced
        if hashlib.sha256(payload).hexdigest() != header["payload_sha256"]:
            raise ValueError("its bytes do not match its checksum")
        lengths = np.array([county["wkb_bytes"] for county in header["counties"]], dtype=np.int64)
        ends = np.cumsum(lengths)
        if int(ends[-1]) != len(payload):
            raise ValueError("its outlines do not fill it")
        wkb = np.array([bytes(payload[e - n:e]) for n, e in zip(lengths.tolist(), ends.tolist())], dtype=object)
        geoms = shapely.from_wkb(wkb)
    except (ValueError, KeyError, TypeError, IndexError, json.JSONDecodeError, shapely.errors.GEOSException) as exc:
        log.warning("ignoring the counties cache %s (%s); the counties file is read instead", where, exc)
        return None
    return [{**{k: county[k] for k in _FIELDS}, "geometry": geom} for county, geom in zip(header["counties"], geoms)]


def write(path: Path, digest: str, records: list[dict]) -> None:
    """Keep ``records`` (as :func:`read` gives them) as the cache of the file ``path`` (SHA-256 ``digest``);
    a folder that cannot take it only logs."""
    from .store.files import atomic_write_bytes  # (the store's package imports the counties)

    wkb = shapely.to_wkb(np.array([r["geometry"] for r in records], dtype=object))
    payload = b"".join(wkb)
    header = json.dumps({
        "format": FORMAT, "file_sha256": digest, "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "counties": [{**{k: r[k] for k in _FIELDS}, "wkb_bytes": len(b)} for r, b in zip(records, wkb)],
    }, ensure_ascii=False).encode("utf-8")
    try:
        atomic_write_bytes(cache_path(path), MAGIC + len(header).to_bytes(8, "little") + header + payload)
    except OSError as exc:
        log.warning("the counties cache %s could not be written (%s); the file is parsed at every start",
                    cache_path(path), exc)
