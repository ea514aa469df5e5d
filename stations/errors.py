"""Domain exceptions. ``web`` maps them to HTTP statuses; the CLI to exit codes."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

#: at most this many characters of a value are quoted in a message, a log line or an error payload
QUOTE_MAX_CHARS = 200


def shorten(text: str, limit: int = QUOTE_MAX_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis and the original length when longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def _quote(value: Any, limit: int) -> tuple[str, bool]:
    """(brief repr of ``value``, whether it was cut)."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value), False
        head = repr(value[:limit])
        return f"{head[:-1]}…{head[-1]} ({len(value)} characters)", True
    if isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) > limit:
        first = list(itertools.islice(value.items() if isinstance(value, dict) else value, limit))
        head = repr(dict(first) if isinstance(value, dict) else first)  # never the whole container
        return f"{head[:limit]}… ({type(value).__name__} of {len(value)} items)", True
    text = repr(value)
    if len(text) <= limit:
        return text, False
    return f"{text[:limit]}… ({len(text)} characters)", True


def quote_value(value: Any, limit: int = QUOTE_MAX_CHARS) -> str:
    """``repr(value)`` for a message, cut after ``limit`` characters: ``'aaaa…' (500000 characters)``."""
    return _quote(value, limit)[0]


#: a ValidationError's message lists at most this many problems (``problems`` holds them all)
MAX_PROBLEMS_IN_MESSAGE = 50


def _rebuild(cls: type, args: tuple, state: dict) -> BaseException:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class YizhanError(Exception):
    """Base of every error this package raises on purpose; ``http_status`` is its answer on the web."""

    http_status = 400

    def __reduce__(self):
        # pickled whole (problems, source, ...) when it crosses a process boundary (a worker pool)
        return (_rebuild, (self.__class__, self.args, self.__dict__))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record: which record, which field, the bad value, what is allowed."""

    record: str
    field: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        # every part may come from the data (an id, a name): each is quoted briefly, never whole
        return (f"{shorten(str(self.record))}: field {quote_value(self.field)} = {quote_value(self.value)}: "
                f"{shorten(str(self.allowed), 4 * QUOTE_MAX_CHARS)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; a long text value is cut (``value_length`` gives its length), a large other value
        is replaced by its brief repr."""
        out: dict[str, Any] = {"record": shorten(str(self.record)), "field": shorten(str(self.field)),
                               "value": self.value, "allowed": shorten(str(self.allowed), 4 * QUOTE_MAX_CHARS)}
        value = self.value
        if isinstance(value, str):
            if len(value) > QUOTE_MAX_CHARS:
                out["value"], out["value_length"] = value[:QUOTE_MAX_CHARS] + "…", len(value)
        elif value is not None and not isinstance(value, (bool, int, float)):
            text, cut = _quote(value, QUOTE_MAX_CHARS)
            if cut:
                out["value"] = text
        if not _json_ready(out["value"]):  # infinity (JSON's 1e400), NaN, a lone surrogate, a set...: as text
            out["value"] = quote_value(value)
        for key in ("record", "field", "allowed", "value"):
            if isinstance(out[key], str) and not is_unicode(out[key]):
                out[key] = out[key].encode("utf-8", "backslashreplace").decode("utf-8")  # \ud800, as written
        return out


def is_unicode(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8: no lone surrogate (JSON's "\\ud800" reads as one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_unicode_at(data: Any) -> str | None:
    """Where in ``data`` (parsed JSON) the first text with a lone surrogate (JSON's "\\ud800") is, which no
    UTF-8 file, database or page can hold: its dotted path (``properties.name``, ``amenities[2]``; ``""`` for
    the top level or a member's name); ``None`` when there is none. Iterative: any depth JSON parses."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if not is_unicode(value):
                return path
        elif isinstance(value, dict):
            if not all(is_unicode(str(key)) for key in value):
                return path
            stack.extend(reversed([(f"{path}.{key}" if path else str(key), v) for key, v in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", v) for i, v in enumerate(value)]))
    return None


def _json_ready(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        return False
    return True


class ValidationError(YizhanError, ValueError):
    """Invalid data; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, Problem):
            problems = [problems]
        if isinstance(problems, str):
            problems = [Problem("-", "-", None, problems)]
        self.problems = list(problems)
        super().__init__(self.summary(MAX_PROBLEMS_IN_MESSAGE))

    def summary(self, max_problems: int = 5) -> str:
        """The first few problems and how many more: for a log line, whatever the number of problems."""
        shown = "; ".join(str(p) for p in self.problems[:max_problems])
        more = len(self.problems) - max_problems
        return f"{shown}; and {more} more problem(s)" if more > 0 else shown


class InvalidRecord(ValidationError):
    """A record given to a store (to add, or as changed by an update) is not valid; nothing was written.

    ``problems`` lists every problem of the record at once. ``http_status`` is 422 (Unprocessable
    Content): the request was well-formed, the record it describes is not. A bad request parameter
    (a query filter, a page size) stays a plain :class:`ValidationError`, 400.
    """

    http_status = 422


class StoredDataError(ValidationError):
    """The stored data cannot be used: the store's file is unreadable, not UTF-8, not JSON or invalid.

    The server's fault, not the client's: the web answers 500 with a generic message and logs the
    problems; the CLI prints them. ``source`` names the file (or database), ``problems`` the file or
    the records.
    """

    http_status = 500

    def __init__(self, problems: list[Problem] | Problem | str, source: str | None = None):
        super().__init__(problems)
        self.source = source


class NotFound(YizhanError, KeyError):
    """No record with that id (or no county with that code)."""

    http_status = 404

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class Conflict(YizhanError):
    """The change clashes with the stored data (e.g. a duplicate id)."""

    http_status = 409


class StaleVersion(Conflict):
    """A write expected a version that is no longer the current one: someone changed the data since.

    Nothing was written. ``record_id`` is the record (``None`` for a store-wide version),
    ``expected`` the version the writer had read, ``current_version`` and ``current`` (the record as
    stored now, ``None`` for a store-wide version) what it is now, so that both can be shown.

    ``http_status`` is 412 (Precondition Failed): the expected version is a precondition of the write,
    exactly as an HTTP ``If-Match`` is (RFC 9110, 13.1.1), so the API passes the exception through. A
    page that carries the version in a form field (the edit form) makes no conditional request: it
    catches this exception, shows both versions and answers 409 (Conflict) itself.
    """

    http_status = 412

    def __init__(self, message: str, *, record_id: str | None = None, expected: str | None = None,
                 current_version: str | None = None, current: Any = None):
        super().__init__(message)
        self.record_id = record_id
        self.expected = expected
        self.current_version = current_version
        self.current = current


class StoreUnavailable(YizhanError):
    """The store's storage cannot be reached now (a database down, a lock not obtained in time).

    The server's state, not the request: ``http_status`` 503; ``source`` names the store
    (a path, or a database URL without its password). Retrying later may succeed.
    """

    http_status = 503

    def __init__(self, message: str, source: str | None = None):
        super().__init__(message)
        self.source = source
