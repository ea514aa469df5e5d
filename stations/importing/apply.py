"""Write an :class:`~stations.importing.plan.ImportPlan` to the store: all of it or nothing.

One store call (``StationStore.import_changes``): the stations added and changed, the stations
removed, validated together and written atomically as one ``import`` journal entry, which
``store.revert(entry_id)`` undoes as a whole. The plan's store version is required: if anyone wrote
since the dry run, :class:`~stations.errors.StaleVersion` and nothing is written; plan again. A killed
process leaves the store as it was (the store's atomic write).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import Conflict, Problem, ValidationError
from .plan import ImportPlan, Progress

log = logging.getLogger(__name__)


class ImportRefused(ValidationError):
    """The plan has rejected rows (and ``skip_bad`` was not given) or an unreadable file: nothing was
    written. ``plan`` is the dry run; ``problems`` its errors. HTTP 422."""

    http_status = 422

    def __init__(self, plan: ImportPlan):
        self.plan = plan
        errors = plan.errors
        super().__init__([Problem(p.where("en"), p.field or "-", p.value, p.message("en")) for p in errors]
                         or [Problem("import", "-", None, "nothing can be imported")])


@dataclass(frozen=True)
class ImportResult:
    """What was written: the journal entries (one, or one per batch), and how many stations were
    added, changed and removed."""

    entry_ids: tuple[int, ...] = ()
    added: int = 0
    changed: int = 0
    removed: int = 0
    store_version: str | None = None
    skipped_rows: tuple[int, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"entry_ids": list(self.entry_ids), "added": self.added, "changed": self.changed,
                "removed": self.removed, "store_version": self.store_version,
                "skipped_rows": list(self.skipped_rows)}


def default_note(plan: ImportPlan) -> str:
    """The journal note of an import: the file, and what it did."""
    c = plan.counts()
    sheet = f" [{plan.table.sheet}]" if plan.table.sheet else ""
    return (f"import {plan.table.source}{sheet} ({plan.options.mode}): {c['added']} added, {c['changed']} changed, "
            f"{c['removed']} removed" + (f", {c['rejected']} rows skipped" if c["rejected"] else ""))


def apply_import(plan: ImportPlan, store, who: str = "", *, note: str | None = None,
                 expected_digest: str | None = None, batch_size: int | None = None,
                 progress: Progress | None = None) -> ImportResult:
    """Write ``plan`` to ``store`` (the store it was planned on).

    ``expected_digest``: the digest of the plan the user confirmed (a page's dry run): a different
    plan is refused (:class:`Conflict`, 409), so what is written is what was shown. ``batch_size``:
    write in several entries of at most this many stations each (a large load; each entry reverts on
    its own), calling ``progress(done, total, "import")``. Raises :class:`ImportRefused` (nothing
    written) when the plan cannot be applied, ``StaleVersion`` when the store changed since the plan.
    """
    if not plan.can_apply:
        raise ImportRefused(plan)
    if expected_digest is not None and expected_digest != plan.digest:
        raise Conflict("the import changed since its dry run was shown (the file or the stations changed); "
                       "look at the new dry run and confirm again")
    skipped = tuple(r.number for r in plan.rejected)
    puts = [s.after for s in plan.added + plan.changed]
    removes = [s.station_id for s in plan.removed]
    if not puts and not removes:
        return ImportResult(store_version=store.version, skipped_rows=skipped)
    note = note or default_note(plan)
    writes: list[tuple[str, Any]] = [("put", s) for s in puts] + [("remove", sid) for sid in removes]
    size = batch_size or len(writes)
    entries = []
    expected = plan.store_version
    for start in range(0, len(writes), size):
        chunk = writes[start:start + size]
        entry = store.import_changes([s for k, s in chunk if k == "put"], [s for k, s in chunk if k == "remove"],
                                     who, expected_store_version=expected,
                                     note=note if size == len(writes) else f"{note} (part {start // size + 1})")
        if entry is not None and entry.id is not None:
            entries.append(entry.id)
        expected = store.version
        if progress is not None:
            progress(min(start + size, len(writes)), len(writes), "import")
    log.info("%s by %s: %s", note, who or "(system)", entries)
    return ImportResult(tuple(entries), len(plan.added), len(plan.changed), len(removes), store.version, skipped)
