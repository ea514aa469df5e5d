"""Analyses' answers kept as files in the instance folder: shared by a server's workers, kept over restarts.

A national analysis takes minutes of CPU and its answers (the figures and every county's gaps) are
the same for every worker of a server and for the next start. So a serving process (``yizhan serve``;
``AppState.serving``) keeps them in ``<INSTANCE_PATH>/coverage-cache/``, one file per store version
and parameters, written once (to a temporary file, then renamed: a reader never sees half a file):

- the analysis itself (``web.background.run_coverage``, in the pool) holds a lock per parameters
  while it computes, so of two workers that start the same analysis at once one computes and the
  other, once the lock is free, reads the file it wrote;
- a worker that misses its in-memory cache reads the file of the current store version, if there is
  one, instead of starting the analysis (``web.planning.routes.coverage_result``);
- without one, the newest file of the same parameters (an earlier store version, say from before a
  restart) is what ``/planning`` shows with its age (the file's time) while the current one is computed.

The gaps (hundreds of MB for the whole country) go to a file of their own (``.gaps``): the answers a
worker keeps in memory name that file (``gaps_file``) instead of holding them, and :func:`gaps` reads
it when a request needs them (the gaps' API and downloads, the map of a city or a county; the map of
a province or the country draws no gaps: ``web.planning.map.DETAIL_MAX_COUNTIES``).

The files are pickles written by this server into its own instance folder (where its secret key
lives too); at most :data:`KEEP` are kept. Nothing here when the process is not serving (tests,
the command line) unless a ``CoverageJob`` names a ``cache_dir``.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Iterator

#: the files' layout; bumped when the answers' shape changes, so old files are not read
FORMAT = 1
#: files kept in the folder (the newest); an older one is removed when a new one is written
KEEP = 16
FOLDER = "coverage-cache"


def folder(instance_path: str) -> str:
    return os.path.join(instance_path, FOLDER)


def _stat(path: str | None) -> Any:
    if not path or "://" in path or not os.path.exists(path):
        return None
    st = os.stat(path)
    return [st.st_mtime_ns, st.st_size]


def params_key(job) -> str:
    """What the answers depend on besides the store's version: the job's parameters and input files."""
    fields = {name: getattr(job, name) for name in job.__dataclass_fields__ if name not in ("processes", "cache_dir")}
    fields["kinds"] = list(fields["kinds"])
    fields["counties_file"] = _stat(job.counties_path)
    fields["water_file"] = _stat(job.water_mask_path)
    raw = json.dumps([FORMAT, fields], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def path_of(cache_dir: str, job, version: str) -> Path:
    digest = hashlib.sha256(version.encode("utf-8")).hexdigest()[:16]
    return Path(cache_dir) / f"{params_key(job)}-{digest}.pickle"


def read(path: Path) -> tuple[str, dict[str, Any]] | None:
    """(store version, answers) from ``path``, or ``None`` if it is not there or not readable."""
    try:
        with open(path, "rb") as f:
            version, answers = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        return None
    return version, answers


def load(cache_dir: str, job, version: str) -> tuple[dict[str, Any], float] | None:
    """(answers, the file's time) of store ``version`` for ``job``, if a file holds them."""
    path = path_of(cache_dir, job, version)
    found = read(path)
    if found is None or found[0] != version:
        return None
    with contextlib.suppress(OSError):
        return found[1], path.stat().st_mtime
    return None


def newest(cache_dir: str, job) -> tuple[str, float, dict[str, Any]] | None:
    """(version, the file's time, answers) of the newest file for ``job``'s parameters, any store version."""
    with contextlib.suppress(OSError):
        files = sorted(Path(cache_dir).glob(f"{params_key(job)}-*.pickle"), key=lambda p: p.stat().st_mtime,
                       reverse=True)
        for path in files:
            found = read(path)
            if found is not None:
                return found[0], path.stat().st_mtime, found[1]
    return None


def _write(target: Path, value: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def store(cache_dir: str, job, version: str, answers: dict[str, Any]) -> dict[str, Any]:
    """Write the answers atomically (temporary files renamed into place: the gaps first, then the answers
    that name them), drop all but the newest files, and return the answers as kept in memory (:func:`slim`)."""
    os.makedirs(cache_dir, exist_ok=True)
    target = path_of(cache_dir, job, version)
    gaps_path = target.with_suffix(".gaps")
    _write(gaps_path, {"gaps": answers["gaps"], "gaps_after": answers["gaps_after"]})
    kept = slim(answers, gaps_path)
    _write(target, (version, kept))
    with contextlib.suppress(OSError):
        files = sorted(Path(cache_dir).glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEEP:]:
            old.unlink()
            with contextlib.suppress(OSError):
                old.with_suffix(".gaps").unlink()
    return kept


def slim(answers: dict[str, Any], gaps_path: Path) -> dict[str, Any]:
    """The answers without the gaps, naming the file that holds them."""
    return {**answers, "gaps": None, "gaps_after": None, "gaps_file": str(gaps_path)}


def gaps(answers: dict[str, Any], after: bool = False) -> dict[str, Any]:
    """The gaps of ``answers`` (with ``after`` those left once the suggested sites are built, if any)."""
    if answers.get("gaps_file") is None:
        held = answers
    else:
        try:
            with open(answers["gaps_file"], "rb") as f:
                held = pickle.load(f)
        except FileNotFoundError:  # an earlier version's, dropped since (only a page with the last figures)
            return {"type": "FeatureCollection", "features": []}
    return held["gaps_after"] if after and held["gaps_after"] is not None else held["gaps"]


@contextlib.contextmanager
def computing(cache_dir: str, job) -> Iterator[None]:
    """Held while ``job``'s analysis runs: another process that starts it waits, then finds the file."""
    os.makedirs(cache_dir, exist_ok=True)
    with open(os.path.join(cache_dir, f"{params_key(job)}.lock"), "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
