"""The file store's journal: one JSON line per change (``journal.jsonl`` beside the stations file).

An entry's id is its line number (1, 2, ...), written into the line as ``"id"``; lines written
before ids existed get their line number when read. Lines are only ever appended, under the
store's lock, and fsynced. A line cut short by a killed writer is ended before the next line is
appended, so it keeps its number, and is skipped (with a warning) when the journal is read.
Reading scans the whole file: fine for a city's journal; a national one belongs in a database.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import IO, Iterator

from .journal import JournalEntry

log = logging.getLogger(__name__)

#: the tail read to find the last entry's id grows from this many bytes
_TAIL_BYTES = 8192


class JsonlJournal:
    """Append and read the entries of one journal file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def append(self, entries: list[JournalEntry]) -> list[JournalEntry]:
        """Number ``entries`` and append them, one line each; the caller holds the store's lock."""
        if not entries:
            return []
        with open(self.path, "a+b") as fh:
            first_id, end_open_line = self._next_id(fh)
            numbered = [e.with_id(first_id + i) for i, e in enumerate(entries)]
            lines = [json.dumps(e.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n" for e in numbered]
            fh.write((b"\n" if end_open_line else b"") + b"".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        return numbered

    def _next_id(self, fh: IO[bytes]) -> tuple[int, bool]:
        """(id of the next line, whether the file ends in a line cut short that must be ended)."""
        size = fh.seek(0, os.SEEK_END)
        if size == 0:
            return 1, False
        fh.seek(size - 1)
        complete = fh.read(1) == b"\n"
        if complete:  # fast path: the last line names its id
            want = _TAIL_BYTES
            while True:
                start = max(0, size - want)
                fh.seek(start)
                tail = fh.read(size - start)[:-1]
                cut = tail.rfind(b"\n")
                if cut >= 0 or start == 0:
                    break
                want *= 4
            try:
                last_id = json.loads(tail[cut + 1:]).get("id")
            except (ValueError, AttributeError):
                last_id = None
            if isinstance(last_id, int) and not isinstance(last_id, bool):
                return last_id + 1, False
        fh.seek(0)  # older lines without ids, or a line cut short: count the lines
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        return lines + (1 if complete else 2), not complete

    def entries(self) -> Iterator[JournalEntry]:
        """Every readable entry, oldest first."""
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return
        with fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    yield JournalEntry.from_dict(json.loads(raw.decode("utf-8")), default_id=number)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    log.warning("%s line %d is not a journal entry (%s); skipped", self.path, number,
                                type(exc).__name__)

    def select(self, station_id: str | None, since: datetime | None, before: int | None,
               limit: int | None) -> list[JournalEntry]:
        """Entries newest first, filtered as :meth:`StationStore.history` describes."""
        chosen = [e for e in self.entries()
                  if (station_id is None or e.concerns(station_id))
                  and (since is None or e.when >= since)
                  and (before is None or (e.id is not None and e.id < before))]
        chosen.sort(key=lambda e: e.id or 0, reverse=True)
        return chosen if limit is None else chosen[:limit]

    def get(self, entry_id: int) -> JournalEntry | None:
        return next((e for e in self.entries() if e.id == entry_id), None)
