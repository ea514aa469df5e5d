"""A cache on disk of geocoder answers, so that a rerun (or a second worker) asks nothing twice.

One small SQLite file (``geocode-cache.sqlite3`` in the folder given): a row per (provider, kind of
question, question) holding the answer as JSON, ``null`` for "no result". Errors (a timeout, a spent
quota) are not cached. Safe for several threads and processes (SQLite's own locking, WAL journal).
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_FILE = "geocode-cache.sqlite3"
_MISSING = object()


class GeocodeCache:
    """Answers by (provider, kind, question); ``path`` a folder (the file is :data:`CACHE_FILE` in it)
    or the file itself. ``max_age_days``: older answers count as absent (``None``: kept for ever)."""

    def __init__(self, path: str | os.PathLike, max_age_days: float | None = 365):
        path = Path(path)
        self.path = path / CACHE_FILE if path.is_dir() or not path.suffix else path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_age_s = None if max_age_days is None else max_age_days * 86400
        self._local = threading.local()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS answers (provider TEXT NOT NULL, kind TEXT NOT NULL, "
                       "question TEXT NOT NULL, answer TEXT, saved REAL NOT NULL, "
                       "PRIMARY KEY (provider, kind, question))")

    def __repr__(self) -> str:
        return f"GeocodeCache({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30)
            try:
                db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:  # a file system without shared memory: the default journal
                pass
            self._local.db = db
        return db

    def get(self, provider: str, kind: str, question: str, default: Any = _MISSING) -> Any:
        """The cached answer (``None`` for a cached "no result"), else ``default`` (a miss)."""
        row = self._connect().execute(
            "SELECT answer, saved FROM answers WHERE provider = ? AND kind = ? AND question = ?",
            (provider, kind, question)).fetchone()
        if row is None or (self.max_age_s is not None and time.time() - row[1] > self.max_age_s):
            return default
        return None if row[0] is None else json.loads(row[0])

    def has(self, provider: str, kind: str, question: str) -> bool:
        return self.get(provider, kind, question) is not _MISSING

    def put(self, provider: str, kind: str, question: str, answer: Any) -> None:
        """Keep ``answer`` (JSON-ready; ``None`` for "no result")."""
        text = None if answer is None else json.dumps(answer, ensure_ascii=False)
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                       (provider, kind, question, text, time.time()))

    def __len__(self) -> int:
        return self._connect().execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


MISSING = _MISSING
