"""Parameter types: the strict rules every page and API parameter follows, as reusable Annotated types.

Each factory returns ``Annotated[T, BeforeValidator(parse), WithJsonSchema(doc), Allowed(text)]``: the
validator parses the raw query-string text, the JSON Schema documents it in the OpenAPI document, and
``Allowed`` says in words what is allowed (for messages). The rules, the same on every page and
every API endpoint:

- decimal numbers: ASCII ``[+-]digits[.digits][e±digits]`` only (no ``3_5.4``, no full-width digits
  ``３５.４``, no hex, no nan/inf), finite, within bounds;
- whole numbers: ASCII digits only (no ``1e3``, no ``2.0``), within bounds;
- yes/no values: ``1/true/yes/on`` or ``0/false/no/off``, any case;
- a scalar parameter given twice is refused (the raw values arrive as a list);
- list parameters (``Repeatable``) take repeats and commas, drop duplicates, keep the order;
- values are stripped; an empty value counts as absent (``web.requests.layer`` drops it before these
  validators see anything).

A refused value raises :class:`Invalid` (why, the value, what is allowed); ``web.requests.layer``
turns it into a :class:`ParameterError` that names the parameter, quotes the value and says what
is allowed.
"""
from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any, Callable, Iterable, Optional
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema

from stations.errors import Problem, ValidationError, quote_value
from stations.i18n import vocabulary_labels
from stations.validate import CONTROL_CLASS

TZ = ZoneInfo("Asia/Shanghai")
#: ASCII only: ``\d`` would also match full-width and other Unicode digits, which ``float()`` accepts
NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
WHOLE_RE = re.compile(r"[+-]?[0-9]{1,12}", re.ASCII)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
YES_NO_TEXT = "1, true, yes, on, 0, false, no or off"
MIN_YEAR, MAX_YEAR = 1970, 2100  # for date-times: public-holiday tables and time zones make sense here


class ParameterError(ValidationError):
    """A request parameter is missing or invalid (HTTP 400): names it, its value and what is allowed.

    ``problems`` lists every bad parameter of the request; ``parameter``, ``value`` and ``message``
    are the first one's.
    """

    http_status = 400

    def __init__(self, parameter: str | list[Problem], value: Any = None, message: str = ""):
        problems = parameter if isinstance(parameter, list) else [Problem("query", parameter, value, message)]
        first = problems[0]
        self.parameter, self.value, self.message = first.field, first.value, first.allowed
        super().__init__(problems)

    def __str__(self) -> str:
        return self.message


class Invalid(ValueError):
    """Raised by a parameter type: ``value`` ``reason`` (``"is out of range"``); ``allowed`` in words.

    ``parameter`` names another parameter than the one being validated (checks across parameters).
    """

    def __init__(self, reason: str, value: Any, allowed: str, parameter: str | None = None):
        super().__init__(reason)
        self.reason, self.value, self.allowed, self.parameter = reason, value, allowed, parameter

    def message(self, name: str) -> str:
        subject = name if self.value is None else f"{name}={quote_value(self.value)}"
        return f"{subject} {self.reason}; allowed: {self.allowed}"


class Allowed:
    """Annotated metadata: what a parameter allows, in words (used when it is missing)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"Allowed({self.text!r})"


class Repeatable:
    """Annotated metadata: a list parameter (``a=x&a=y`` or ``a=x,y``); it arrives as a list of texts."""

    def __repr__(self) -> str:
        return "Repeatable()"


REPEATABLE = Repeatable()


def one(value: Any, allowed: str) -> str:
    """The single text of a scalar parameter (a list means it was given more than once), stripped."""
    if isinstance(value, list):
        raise Invalid(f"is given {len(value)} times", value, "once, " + allowed)
    if not isinstance(value, str):  # a model built from Python values rather than a query string
        value = str(value)
    return value.strip()


def _param(python_type: Any, parse: Callable, schema: dict[str, Any], allowed: str, *extra: Any) -> Any:
    return Annotated[python_type, BeforeValidator(parse), WithJsonSchema(schema), Allowed(allowed), *extra]


def _bound(value: float | None, default: str) -> str:
    return default if value is None else f"{value:g}"


# ---- numbers -----------------------------------------------------------------------------------

def decimal(minimum: float | None = None, maximum: float | None = None, what: str = "a number",
            examples: tuple[float, ...] = ()) -> Any:
    """A finite decimal number, within ``minimum..maximum`` (inclusive); ``examples`` for the document."""
    allowed = f"{what} from {_bound(minimum, '-inf')} to {_bound(maximum, 'inf')}"

    def parse(value: Any) -> float:
        text = one(value, allowed)
        if not NUMBER_RE.fullmatch(text):
            raise Invalid("is not a decimal number", text, allowed)
        number = float(text)
        if not math.isfinite(number):
            raise Invalid("is not finite", text, allowed)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise Invalid("is out of range", text, allowed)
        return number

    schema: dict[str, Any] = {"type": "number"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if examples:
        schema["examples"] = list(examples)
    return _param(float, parse, schema, allowed)


class FromSettings:
    """A bound read from the running app's limits (``web.limits.Limits``) at request time.

    ``name`` is the attribute (``max_new_sites``); ``ceiling`` the bound when no app is running (the
    domain's own limit), also the figure the OpenAPI document is generated with before it is filled.
    """

    def __init__(self, name: str, ceiling: int):
        self.name, self.ceiling = name, ceiling

    def value(self, info: ValidationInfo | None) -> int:
        limits = getattr(info.context, "limits", None) if info is not None and info.context else None
        return int(getattr(limits, self.name)) if limits is not None else self.ceiling


def whole(minimum: int, maximum: int | FromSettings) -> Any:
    """A whole number of ASCII digits within ``minimum..maximum``; ``maximum`` may come from the settings."""

    def allowed_text(high: int) -> str:
        return f"a whole number from {minimum} to {high}"

    def parse(value: Any, info: ValidationInfo) -> int:
        high = maximum.value(info) if isinstance(maximum, FromSettings) else maximum
        text = one(value, allowed_text(high))
        if not WHOLE_RE.fullmatch(text):
            digits = text[1:] if text[:1] in ("+", "-") else text
            too_long = digits.isascii() and digits.isdigit()  # more digits than any bound needs
            raise Invalid("is out of range" if too_long else "is not a whole number", text, allowed_text(high))
        number = int(text)
        if not minimum <= number <= high:
            raise Invalid("is out of range", text, allowed_text(high))
        return number

    ceiling = maximum.ceiling if isinstance(maximum, FromSettings) else maximum
    schema: dict[str, Any] = {"type": "integer", "minimum": minimum, "maximum": ceiling}
    if isinstance(maximum, FromSettings):
        schema["x-yizhan-fill"] = {"maximum": maximum.name}  # the running app's value (web.openapi)
    return _param(int, parse, schema, allowed_text(ceiling))


# ---- words -------------------------------------------------------------------------------------

def yes_no() -> Any:
    """``1/true/yes/on`` -> True, ``0/false/no/off`` -> False (any case); default False."""

    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = one(value, YES_NO_TEXT).lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise Invalid("is not a yes/no value", text, YES_NO_TEXT)

    schema = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"], "default": "0"}
    return _param(bool, parse, schema, YES_NO_TEXT)


def vocabulary_doc(vocab: str) -> str:
    """``key`` English (Chinese) for each entry of a vocabulary (``kind``, ``amenity``, ``status``), for a
    parameter's description; the labels are the catalogue's (``stations.i18n``)."""
    return "; ".join(f"`{k}` {v['en']} ({v['zh']})" for k, v in vocabulary_labels(vocab).items())


def _choices_text(choices: Iterable[str]) -> str:
    return "one of " + ", ".join(choices)


def choice(choices: Iterable[str], examples: tuple[str, ...] = ()) -> Any:
    """One value out of ``choices`` (exact, case-sensitive); ``examples`` for the document."""
    names = tuple(choices)
    allowed = _choices_text(names)

    def parse(value: Any) -> str:
        text = one(value, allowed)
        if text not in names:
            raise Invalid("is unknown", text, allowed)
        return text

    schema: dict[str, Any] = {"type": "string", "enum": list(names)}
    if examples:
        schema["examples"] = list(examples)
    return _param(str, parse, schema, allowed)


_CONTROL_RE = re.compile(f"[{CONTROL_CLASS}]")


def choices(choices: Iterable[str]) -> Any:
    """Several values out of ``choices``, repeated and/or comma-separated; order kept, duplicates dropped."""
    names = tuple(choices)
    allowed = _choices_text(names) + " (repeat the parameter or separate with commas)"

    def parse(value: Any) -> tuple[str, ...]:
        out: list[str] = []
        for raw in value if isinstance(value, (list, tuple)) else [value]:
            for part in str(raw).split(","):
                item = part.strip()
                if not item:
                    continue
                if item not in names:
                    raise Invalid("is unknown", item, allowed)
                if item not in out:
                    out.append(item)
        return tuple(out)

    schema = {"type": "array", "items": {"type": "string", "enum": list(names)}, "uniqueItems": True,
              "style": "form", "explode": True}
    return _param(tuple[str, ...], parse, schema, allowed, REPEATABLE)


def text(max_chars: int, *, one_line: bool = False) -> Any:
    """Free text, stripped and cut to ``max_chars`` characters (a search box, a journal note: never refused).
    ``one_line``: control characters (``stations.validate.CONTROL_CLASS``; a NUL cannot even be stored in
    PostgreSQL) become spaces."""
    allowed = f"a text{' on one line' if one_line else ''} (the first {max_chars} characters are used)"

    def parse(value: Any) -> str:
        value = one(value, allowed)
        return (_CONTROL_RE.sub(" ", value).strip() if one_line else value)[:max_chars]

    return _param(str, parse, {"type": "string"}, allowed)


def identifiers(max_items: int, max_chars: int = 64, example: str = "JN-RS-0001") -> Any:
    """Up to ``max_items`` identifiers (letters, digits, ``-``, ``_``, ``.``), repeated and/or comma-separated;
    order kept, duplicates dropped."""
    allowed = (f"up to {max_items} identifiers of letters, digits, '-', '_' or '.' (at most {max_chars} characters "
               "each; repeat the parameter or separate with commas)")

    def parse(value: Any) -> tuple[str, ...]:
        out: list[str] = []
        for raw in value if isinstance(value, (list, tuple)) else [value]:
            for part in str(raw).split(","):
                item = part.strip()
                if not item:
                    continue
                if len(item) > max_chars or not IDENTIFIER_RE.fullmatch(item):
                    raise Invalid("is not an identifier", item, allowed)
                if item not in out:
                    out.append(item)
        if len(out) > max_items:
            raise Invalid(f"names {len(out)}", ",".join(out), allowed)
        return tuple(out)

    schema = {"type": "array", "items": {"type": "string", "pattern": IDENTIFIER_RE.pattern}, "maxItems": max_items,
              "uniqueItems": True, "style": "form", "explode": True, "examples": [[example]]}
    return _param(tuple[str, ...], parse, schema, allowed, REPEATABLE)


IDENTIFIER_RE = re.compile(r"[A-Za-z0-9._-]+")


def preference(choices: Iterable[str]) -> Any:
    """A preference such as ``lang``: one of ``choices``, and anything else counts as not given (None)."""
    names = tuple(choices)
    allowed = _choices_text(names) + " (anything else is ignored)"

    def parse(value: Any) -> str | None:
        text = value[-1] if isinstance(value, list) else value  # the last choice wins
        text = str(text).strip()
        return text if text in names else None

    return _param(Optional[str], parse, {"type": "string", "enum": list(names)}, allowed)


# ---- composite values ---------------------------------------------------------------------------

def date_time() -> Any:
    """ISO 8601 date-time; without an offset it is Asia/Shanghai time. Returned aware (Asia/Shanghai)."""
    allowed = "an ISO 8601 date-time such as 2026-05-01T12:30 (Asia/Shanghai time unless an offset is given)"

    def parse(value: Any) -> datetime:
        text = one(value, allowed)
        # A '+' of an offset arrives as a space when the client did not percent-encode it.
        iso = text.replace(" ", "+") if text.count(" ") == 1 and "T" in text else text
        try:
            parsed = datetime.fromisoformat(iso)
            parsed = parsed.replace(tzinfo=TZ) if parsed.tzinfo is None else parsed.astimezone(TZ)
        except (ValueError, OverflowError):
            raise Invalid("is not a date-time", text, allowed) from None
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise Invalid("is out of range", text, f"{allowed}, years {MIN_YEAR}-{MAX_YEAR}")
        return parsed

    return _param(datetime, parse, {"type": "string", "format": "date-time"}, allowed)


def bbox() -> Any:
    """``minlon,minlat,maxlon,maxlat`` in WGS-84 degrees (the GeoJSON/OGC order: longitude first)."""
    allowed = "minlon,minlat,maxlon,maxlat in WGS-84 degrees, lon -180..180, lat -90..90, min <= max"

    def parse(value: Any) -> tuple[float, float, float, float]:
        raw = one(value, allowed)
        parts = [p.strip() for p in raw.split(",")]
        if len(parts) != 4 or not all(NUMBER_RE.fullmatch(p) for p in parts):
            raise Invalid("is not 4 comma-separated decimal numbers", raw, allowed)
        minlon, minlat, maxlon, maxlat = (float(p) for p in parts)
        if not all(math.isfinite(v) for v in (minlon, minlat, maxlon, maxlat)):
            raise Invalid("has a number that is not finite", raw, allowed)
        if not (-180 <= minlon <= 180 and -180 <= maxlon <= 180 and -90 <= minlat <= 90 and -90 <= maxlat <= 90):
            raise Invalid("is out of range", raw, allowed)
        if minlon > maxlon or minlat > maxlat:
            raise Invalid("has a minimum above its maximum", raw, allowed)
        return (minlon, minlat, maxlon, maxlat)

    schema = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
              "style": "form", "explode": False, "examples": [[116.5, 35.3, 116.7, 35.5]]}
    return _param(tuple[float, float, float, float], parse, schema, allowed)


#: at most this many counties are named in a message (a national data set has thousands)
COUNTIES_NAMED = 20


def known_counties(counties) -> str:
    """``one of 370811 (任城区), ...`` for the first :data:`COUNTIES_NAMED` counties, and how many more."""
    codes = counties.codes
    named = ", ".join(f"{c} ({counties.name(c)})" for c in codes[:COUNTIES_NAMED])
    more = f" and {len(codes) - COUNTIES_NAMED} more (see /api/counties)" if len(codes) > COUNTIES_NAMED else ""
    return f"one of {named}{more} (adcode or exact name)" if codes else "none: no county outlines are loaded"


def county() -> Any:
    """A county of the loaded outlines by adcode (``370811``) or exact name (``任城区``); gives the adcode.

    Needs the validation context's ``counties`` (``web.requests.layer.RequestContext``).
    """
    generic = "a county's 6-digit adcode or exact name (see /api/counties)"

    def parse(value: Any, info: ValidationInfo) -> str:
        counties = info.context.counties
        raw = one(value, generic)
        if raw in counties.codes:
            return raw
        for code in counties.codes:
            if counties.name(code) == raw:
                return code
        raise Invalid("is not a county in the data", raw, known_counties(counties))

    return _param(str, parse, {"type": "string"}, generic)


# ---- files --------------------------------------------------------------------------------------

class FileField:
    """Annotated metadata: a form field holding an uploaded file (``multipart/form-data``); the layer
    gives it the werkzeug ``FileStorage`` from ``request.files`` (``web.requests.layer``)."""

    def __repr__(self) -> str:
        return "FileField()"


FILE_FIELD = FileField()


def upload(extensions: Iterable[str], what: str = "a file") -> Any:
    """An uploaded file (werkzeug ``FileStorage``) whose name ends in one of ``extensions`` (``.xlsx``, ...).

    The name is the client's: it tells the format and is shown, never used as a path. How large the
    file may be is the view's to check while it copies it (the body as a whole is bounded by Flask's
    ``MAX_CONTENT_LENGTH``).
    """
    endings = tuple(e.lower() for e in extensions)
    allowed = f"{what}, named *{', *'.join(endings)}"

    def parse(value: Any) -> Any:
        from werkzeug.datastructures import FileStorage

        if isinstance(value, list):
            raise Invalid(f"is given {len(value)} times", None, "once, " + allowed)
        if not isinstance(value, FileStorage) or not (value.filename or "").strip():
            raise Invalid("is not a file", None, allowed)
        if not value.filename.strip().lower().endswith(endings):
            raise Invalid("is not of a type that can be read", value.filename.strip(), allowed)
        return value

    return _param(Any, parse, {"type": "string", "format": "binary"}, allowed, FILE_FIELD)
