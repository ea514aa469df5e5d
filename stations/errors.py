"""Domain exceptions. ``web`` maps them to HTTP statuses; the CLI to exit codes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class YizhanError(Exception):
    """Base of every error this package raises on purpose."""

    http_status = 400


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record: which record, which field, the bad value, what is allowed."""

    record: str
    field: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"{self.record}: field {self.field!r} = {self.value!r}: {self.allowed}"

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, "field": self.field, "value": self.value, "allowed": self.allowed}


class ValidationError(YizhanError, ValueError):
    """Invalid data; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, Problem):
            problems = [problems]
        if isinstance(problems, str):
            problems = [Problem("-", "-", None, problems)]
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class NotFound(YizhanError, KeyError):
    """No record with that id (or no county with that code)."""

    http_status = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class Conflict(YizhanError):
    """The change clashes with the stored data (e.g. a duplicate id)."""

    http_status = 409
