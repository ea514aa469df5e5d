"""The file store's validated cache: a stations file's :class:`StationTable`, kept beside it.

Reading and validating a national stations file (186,100 records, ~120 MB of GeoJSON) takes ~10 s
and leaves a process holding hundreds of MB; reading this cache takes ~0.3 s and holds ~12 MB of
columns, the records staying in the file (read by ``pread`` when an answer needs them). The cache is ``.<file name>.table`` in the same folder,
written atomically (temporary file, fsync, rename) by the process that validated the file or wrote
it, and used only if it was made from exactly this file by exactly these rules:

- the file's (mtime_ns, size, inode) and the SHA-256 of its bytes (read again at every use: ~0.2 s
  per 100 MB; a file changed in place, even keeping its size and time, is validated again);
- the counties that validation checked positions against (their codes and outlines);
- the validator: this format's number, the vocabulary, and the source of the modules that decide
  what a valid record is (``validate``, ``model``, ``hours``, ``store/records``);
- the cache's own bytes (SHA-256 of everything after its header).

Anything else (no cache, another file, an unreadable or cut-short cache, a folder that is not
writable) means the file is validated once as before; a cache that cannot be written is logged and
skipped. Files under ``MIN_BYTES`` (2 MB, ~3,000 stations) get none: they validate in milliseconds. File layout: 16 bytes of magic, 8 bytes of header length, a JSON header (the key, the
counts, the texts of the code columns, the collection's members, where each column lies), then the
columns and the records' JSON at 64-byte aligned offsets.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import model
from .files import atomic_write_bytes, remove_stale_temporaries
from .table import AMENITY_KEYS, KIND_KEYS, STATUS_KEYS, BlobRecords, FileRecords, StationTable

log = logging.getLogger(__name__)

MAGIC = b"YIZHAN-TABLE-01\n"
FORMAT = 2
_ALIGN = 64
#: files smaller than this (~3,000 stations) are validated at every start: it takes milliseconds
MIN_BYTES = 2_000_000
_COLUMNS = ("ids", "lon", "lat", "kind", "status", "amenity_bits", "hours", "county", "sample")
_rules: str | None = None
_PACKAGE = Path(__file__).resolve().parent.parent  # stations/
#: the modules whose code decides whether a record is valid (their source is part of the key)
_RULE_SOURCES = tuple(_PACKAGE / name for name in ("validate.py", "model.py", "hours.py", "store/records.py"))


def worth_caching(size: int) -> bool:
    """Whether a stations file of ``size`` bytes gets a cache: a small one is validated in milliseconds."""
    return size >= MIN_BYTES


def cache_path(path: Path) -> Path:
    """Where the cache of the stations file ``path`` lives: ``.<name>.table`` beside it."""
    return path.with_name(f".{path.name}.table")


def rules_fingerprint() -> str:
    """What decides a record's validity: the format, the vocabulary, the validating modules' source."""
    global _rules
    if _rules is None:
        digest = hashlib.sha256(json.dumps([FORMAT, KIND_KEYS, STATUS_KEYS, AMENITY_KEYS,
                                            model.PROPERTY_ORDER, model.COORD_DECIMALS]).encode())
        for source in _RULE_SOURCES:
            digest.update(source.read_bytes())
        _rules = digest.hexdigest()[:32]
    return _rules


def counties_fingerprint(counties) -> str:
    """The counties that validation placed points in: their codes and outlines (kept on the object)."""
    if counties is None:
        return "none"
    found = getattr(counties, "_table_fingerprint", None)
    if found is None:
        import shapely

        digest = hashlib.sha256("\n".join(counties.codes).encode())
        for code in counties.codes:
            digest.update(shapely.to_wkb(counties.geometry(code)))
        found = digest.hexdigest()[:32]
        try:
            counties._table_fingerprint = found
        except AttributeError:  # pragma: no cover - a counties object that refuses attributes
            pass
    return found


def file_key(fh) -> tuple[tuple[int, int, int], str]:
    """((mtime_ns, size, inode), SHA-256 of the bytes) of a stations file open for binary reading
    (read from the start; the same open file, so both describe the same bytes)."""
    st = os.fstat(fh.fileno())
    digest = hashlib.sha256()
    fh.seek(0)
    while chunk := fh.read(1 << 20):
        digest.update(chunk)
    return (st.st_mtime_ns, st.st_size, st.st_ino), digest.hexdigest()


def expected_key(stat_key: list[int], digest: str, counties) -> dict[str, Any]:
    return {"file": list(stat_key), "sha256": digest, "counties": counties_fingerprint(counties),
            "rules": rules_fingerprint()}


def _aligned(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def dump_table(table: StationTable, key: Mapping[str, Any]) -> bytes:
    """The cache file's bytes for ``table`` (whose records must be :class:`BlobRecords`)."""
    records = table.records
    if not isinstance(records, BlobRecords):
        raise TypeError("only a table with its records in memory can be cached")
    blob = bytes(records.buffer[records.start:records.start + int(records.offsets[-1])])
    sections: list[tuple[str, bytes]] = [(name, np.ascontiguousarray(getattr(table, name)).tobytes())
                                         for name in _COLUMNS]
    sections += [("offsets", np.ascontiguousarray(records.offsets, dtype=np.int64).tobytes()), ("blob", blob)]
    layout, position = {}, 0
    for name, data in sections:
        layout[name] = [position, len(data)]
        position = _aligned(position + len(data))
    payload = bytearray(position)
    for (name, data), (start, length) in zip(sections, layout.values()):
        payload[start:start + length] = data
    header = {"format": FORMAT, "key": dict(key), "count": len(table),
              "dtypes": {name: getattr(table, name).dtype.str for name in _COLUMNS},
              "hours_texts": list(table.hours_texts), "county_codes": list(table.county_codes),
              "members": table.members, "layout": layout, "payload_sha256": hashlib.sha256(payload).hexdigest()}
    head = json.dumps(header, ensure_ascii=False).encode("utf-8")
    start = _aligned(len(MAGIC) + 8 + len(head))
    prefix = MAGIC + len(head).to_bytes(8, "little") + head
    return prefix + b"\0" * (start - len(prefix)) + bytes(payload)


def save(path: Path, table: StationTable, key: Mapping[str, Any]) -> bool:
    """Write the cache of ``path`` (best effort: a failure is logged, never raised); whether it was."""
    target = cache_path(path)
    try:
        remove_stale_temporaries(target)
        atomic_write_bytes(target, dump_table(table, key))
    except (OSError, TypeError, ValueError) as exc:
        log.warning("cannot write the stations cache %s (%s): the file will be validated again at the next start",
                    target, exc)
        return False
    log.info("wrote the validated cache of %s (%d stations) to %s", path, len(table), target)
    return True


def load(path: Path, key: Mapping[str, Any]) -> StationTable | None:
    """The cached table of ``path`` if the cache was made with exactly ``key`` (and is whole), else ``None``.

    The columns are read into memory; the records stay in the file, read by ``pread`` when asked for
    (the table keeps the cache file open: a newer cache renamed over it leaves this one readable).
    """
    target = cache_path(path)
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        table = _read(fd, path, target, key)
    except (OSError, ValueError, KeyError, TypeError, UnicodeError) as exc:
        log.warning("cannot read the stations cache %s (%s); validating %s again", target, exc, path)
        table = None
    if table is None:
        os.close(fd)
    return table


def _read(fd: int, path: Path, target: Path, key: Mapping[str, Any]) -> StationTable | None:
    with open(os.dup(fd), "rb") as fh:  # a file object of its own: closing it leaves ``fd`` open
        if fh.read(len(MAGIC)) != MAGIC:
            return None
        length = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(length).decode("utf-8"))
        if header.get("format") != FORMAT or header.get("key") != dict(key):
            return None
        start = _aligned(len(MAGIC) + 8 + length)
        fh.seek(start)
        payload = bytearray()
        digest = hashlib.sha256()
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            if len(payload) < header["layout"]["blob"][0]:  # the columns (the records stay in the file)
                payload += chunk
        if digest.hexdigest() != header["payload_sha256"]:
            log.warning("the stations cache %s is damaged; validating %s again", target, path)
            return None
    n, layout, dtypes = header["count"], header["layout"], header["dtypes"]

    def column(name: str, dtype: str, count: int) -> np.ndarray:
        offset, size = layout[name]
        array = np.frombuffer(payload, dtype=np.dtype(dtype), count=count, offset=offset).copy()
        if array.nbytes != size:
            raise ValueError(f"column {name} has {array.nbytes} bytes, not {size}")
        return array

    columns = {name: column(name, dtypes[name], n) for name in _COLUMNS}
    offsets = column("offsets", "<i8", n + 1)
    records = FileRecords(fd, offsets, start + layout["blob"][0])
    return StationTable(**columns, hours_texts=header["hours_texts"], county_codes=header["county_codes"],
                        records=records, members=header.get("members") or {})
