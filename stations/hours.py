"""Parse OpenStreetMap ``opening_hours`` values and tell whether a station is open at a given time.

Supported: the subset of the OSM specification (wiki.openstreetmap.org/wiki/Key:opening_hours/
specification) that stations use. ``24/7``; months ``Jan-Mar``, ``Nov-Feb``, ``Jan,Jul`` (optionally
followed by ``:``); days ``Mo-Fr``, ``Sa,Su``, ``Mo-We,Fr``, wrap-around ``Fr-Mo`` and ``PH``
(China's public holidays, see "The official calendar" below); times ``08:00-18:00``, several per
rule ``08:00-12:00,14:00-18:00``, ``24:00`` as an end, past midnight ``22:00-02:00`` (selected by the
day it starts on); ``off`` / ``closed`` / ``open``. A rule without days applies every day; a rule
without times, all day.

A rule after ``;`` replaces earlier rules on the days it selects; a rule after ``,`` (allowed after a
complete rule: ``Mo-Fr 08:00-12:00, We 14:00-16:00``) adds to them. As in opening_hours.js, the
reference implementation, a ``;`` rule for a day also replaces the small hours of the previous
evening's span (``Fr 22:00-02:00; Sa 10:00-18:00`` is closed at Saturday 01:00; ``, Sa`` keeps it),
and an ``off`` rule with times closes just those times. Anything else (``||``, comments, ``SH``,
``sunrise``, dates, weeks, years) raises :class:`OpeningHoursError`. Times are Asia/Shanghai time.

The official calendar (放假调休)
-----------------------------
Every year the State Council's General Office announces the holiday breaks and the weekend days
worked instead (2026: 春节 2月15日至23日放假调休，2月14日（周六）、2月28日（周六）上班). The
``holidays`` package (``holidays.China``; 2026 since its version 0.85) records both: the statutory
holidays and the weekdays given off (``Day off (substituted from 2026-02-14)``), and pairs each
make-up working day with the weekday it pays for (2026-02-14 for Friday 2026-02-20). Here:

- ``PH`` is every day of an announced break: a run of days off (weekends not worked, statutory
  holidays, weekdays given off) that holds at least one holiday or given-off day. So in 2026 ``PH``
  is 02-15 to 02-23 and 10-01 to 10-07, as the notice says, weekend days included
  (:func:`is_public_holiday`).
- A make-up working day (调休上班: a Saturday or Sunday the notice makes a working day) follows the
  rules of the weekday it stands in for: the one the package pairs it with (2026-02-14 is a Friday,
  2026-02-28 a Monday), else the nearest weekday (Friday for a Saturday, Monday for a Sunday). So
  ``Mo-Fr 08:00-18:00; PH off`` is open on 2026-02-14 and ``Sa,Su 09:00-12:00`` closed
  (:func:`effective_weekday`).

Years the package does not know yet (each year's notice comes in November) have no make-up days,
and their holidays are the package's estimate.
"""
from __future__ import annotations

import logging
import re
import threading
from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from .errors import Problem, ValidationError
from .i18n import gettext

log = logging.getLogger(__name__)

try:
    SHANGHAI = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database installed: fixed UTC+8 is exact since 1991
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")  # index == date.weekday()
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY_MIN = 24 * 60
ALLOWED = ("allowed: '24/7'; days Mo Tu We Th Fr Sa Su and PH, as ranges or lists (Mo-Fr, Sa,Su, "
           "Fr-Mo, Sa,Su,PH); months Jan-Dec (May-Sep); times HH:MM-HH:MM (08:00-12:00,14:00-18:00, "
           "22:00-02:00, 18:00-24:00); 'off', 'closed' or 'open'; rules separated by '; '")


class OpeningHoursError(ValidationError):
    """An ``opening_hours`` value that cannot be parsed; the message quotes it and points at the fault.

    Attributes
    ----------
    text : str
        The whole value.
    column : int
        1-based position of the faulty part (one past the end if the text ended too soon).
    token : str
        The faulty part, or ``""`` at the end of the text.
    reason : str
        What is wrong, with a hint where one helps.
    """

    def __init__(self, text: str, column: int, token: str, reason: str):
        self.text, self.column, self.token, self.reason = text, column, token, reason
        where = f"column {column} ({token!r})" if token else f"column {column} (end of text)"
        super().__init__(Problem("-", "opening_hours", text, f"{where}: {reason}; {ALLOWED}"))


# ---------------------------------------------------------------- tokens
_Token = namedtuple("_Token", "kind value text pos")  # kind: always time day ph month mod - , ; :
_TOKEN = re.compile(r"\s*(?:(?P<always>24/7)|(?P<time>[0-9]+:[0-9]+)|(?P<num>[0-9]+)"
                    r"|(?P<word>[^\W\d_]+)|(?P<punct>\|\||[-,;:])|(?P<other>\S))")
_KEYWORDS = {**{d: ("day", i) for i, d in enumerate(WEEKDAYS)}, "PH": ("ph", None),
             **{m: ("month", i + 1) for i, m in enumerate(MONTHS)},
             "off": ("mod", True), "closed": ("mod", True), "open": ("mod", False)}  # value: closes?
_CHAR_HINTS = {**{c: f"use the ASCII {a!r}" for c, a in zip("；，：－–—~～", ";,:-----")},
               '"': "comments are not supported", "+": "open ends ('+') are not supported",
               "[": "nth weekdays (Mo[1]) are not supported", "/": "intervals are not supported"}
_UNSUPPORTED = {"SH", "unknown", "sunrise", "sunset", "dawn", "dusk", "week", "easter"}


def _word_hint(word: str) -> str:
    if word in _UNSUPPORTED:
        return f"{word!r} is not supported"
    same = [k for k in _KEYWORDS if k.lower() == word.lower()]
    title = word[:1].upper() + word[1:].lower()
    if same:
        return f"unknown word; names are case-sensitive, write {same[0]!r}"
    if title[:2] in WEEKDAYS or title[:3] in MONTHS:
        short = title[:2] if title[:2] in WEEKDAYS else title[:3]
        return f"unknown word; use two-letter days and three-letter months, such as {short!r}"
    return "unknown word"


def _token(text: str, match: re.Match) -> _Token:
    kind = match.lastgroup
    raw, pos = match[kind], match.start(kind)
    reason = None
    if kind in ("always", "punct") and raw != "||":
        return _Token(raw if kind == "punct" else kind, None, raw, pos)
    if kind == "time":
        hour, minute = (int(n) for n in raw.split(":"))
        if not re.fullmatch(r"[0-9]{2}:[0-9]{2}", raw):
            reason = "write times as HH:MM, two digits each, e.g. 08:00"
        elif hour > 24 or minute > 59 or (hour == 24 and minute):
            reason = ("no such time: hours are 00-23 (24:00 only as an end), minutes 00-59; "
                      "write spans past midnight as 22:00-02:00")
        else:
            return _Token("time", hour * 60 + minute, raw, pos)
    elif kind == "word":
        if raw in _KEYWORDS:
            return _Token(*_KEYWORDS[raw], raw, pos)
        reason = _word_hint(raw)
    elif kind == "num":
        reason = "bare number: times are HH:MM; dates (Dec 25), weeks and years are not supported"
    elif raw == "||":
        reason = "fallback rules ('||') are not supported; separate rules with ';'"
    raise OpeningHoursError(text, pos + 1, raw, reason or _CHAR_HINTS.get(raw, "unexpected character"))


# ---------------------------------------------------------------- rules and parser
def _within(x: int, first: int, last: int) -> bool:
    """``first <= x <= last`` on a cycle, so that Fr-Mo and Nov-Feb wrap around."""
    return first <= x <= last if first <= last else (x >= first or x <= last)


@dataclass(frozen=True)
class _Rule:
    months: tuple = ()  # ((first, last), ...) with 1 = Jan; () = every month
    days: tuple = ()  # ((first, last), ...) with 0 = Mo, or "PH"; () = every day
    spans: tuple = ((0, DAY_MIN),)  # (start, end) minutes; end > DAY_MIN runs into the next day
    timed: bool = False  # times were written (otherwise: all day)
    closed: bool = False
    additional: bool = False  # follows ',' rather than ';'
    always: bool = False  # 24/7

    def covers(self, key: tuple) -> bool:
        """Whether the rule selects a day described by ``(month, weekday, is_public_holiday)``."""
        month, weekday, is_ph = key
        if self.months and not any(_within(month, a, b) for a, b in self.months):
            return False
        return not self.days or any(is_ph if d == "PH" else _within(weekday, *d) for d in self.days)


_AFTER_RULE = {
    "-": "'-' must join two days, months or times",
    ":": "':' may only follow months, as in 'Jan-Mar: 08:00-18:00'",
    "time": "separate several times with ',' (08:00-12:00,14:00-18:00) or rules with '; '",
    "month": "months come first in a rule (May-Sep Mo-Fr 06:00-20:00)",
    "always": "'24/7' is a rule of its own; for whole days write e.g. 'Mo-Fr'",
}


class _Parser:
    def __init__(self, text: str):
        self.text, self.i = text, 0
        self.tokens = [_token(text, m) for m in _TOKEN.finditer(text)]

    def kind(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.tokens[j].kind if j < len(self.tokens) else None

    def take(self, kind: str | None = None, reason: str = "") -> _Token:
        if kind is not None and self.kind() != kind:
            raise self.fail(reason)
        self.i += 1
        return self.tokens[self.i - 1]

    def fail(self, reason: str, tok: _Token | None = None) -> OpeningHoursError:
        tok = tok or (self.tokens[self.i] if self.i < len(self.tokens) else None)
        if tok is None:
            return OpeningHoursError(self.text, len(self.text.rstrip()) + 1, "", reason)
        return OpeningHoursError(self.text, tok.pos + 1, tok.text, reason)

    def parse(self) -> tuple[_Rule, ...]:
        if not self.tokens:
            raise self.fail("the value is empty; write e.g. 'Mo-Fr 08:00-18:00' or '24/7'")
        rules = [self.rule(additional=False)]
        while self.i < len(self.tokens):
            sep = self.take()
            if sep.kind not in (";", ","):
                raise self.fail(_AFTER_RULE.get(sep.kind, "expected '; ' before the next rule"), sep)
            if self.kind() is None:
                raise self.fail(f"nothing after {sep.text!r}; remove it", sep)
            rules.append(self.rule(additional=sep.kind == ","))
        return tuple(rules)

    def rule(self, additional: bool) -> _Rule:
        months = days = spans = ()
        always = self.kind() == "always"
        if always:
            self.take()
        else:
            months = self.selectors("month", ("month",)) if self.kind() == "month" else ()
            if months and self.kind() == ":":
                self.take()
            days = self.selectors("day", ("day", "ph")) if self.kind() in ("day", "ph") else ()
            spans = self.times() if self.kind() == "time" else ()
        closed = self.take().value if self.kind() == "mod" else None
        if not (always or months or days or spans or closed is not None):
            raise self.fail("expected a rule: days, times, '24/7' or 'off'")
        return _Rule(months, days, spans or ((0, DAY_MIN),), bool(spans), bool(closed), additional,
                     always)

    def selectors(self, kind: str, kinds: tuple) -> tuple:
        """A list of months or of days (and PH), each alone or as a range: ``Mo-We,Fr,PH``."""
        items = []
        while True:
            tok = self.take()
            if tok.kind == "ph" and self.kind() == "-":
                raise self.fail("PH cannot be part of a range; list it: Sa,Su,PH")
            if self.kind() == "-":
                self.take()
                items.append((tok.value, self.take(kind, f"expected a {kind} after '-'").value))
            else:
                items.append("PH" if tok.kind == "ph" else (tok.value, tok.value))
            if self.kind() != ",":
                return tuple(items)
            self.take()
            if self.kind() not in kinds:
                raise self.fail(f"expected another {' or '.join(kinds).replace('ph', 'PH')} after ','")

    def times(self) -> tuple:
        """Time spans ``08:00-12:00,14:00-18:00`` as (start, end) minutes after the day's midnight."""
        spans = []
        while True:
            start = self.take()
            self.take("-", "a time needs an end: HH:MM-HH:MM")
            end = self.take("time", "expected an end time after '-'")
            if start.value >= DAY_MIN:
                raise self.fail("24:00 can only end a span; start at 00:00", start)
            if end.value == start.value:
                raise self.fail("span starts and ends at the same time; all day is 00:00-24:00", end)
            # past midnight (22:00-02:00): the span belongs to the day it starts on
            spans.append((start.value, end.value + (DAY_MIN if end.value < start.value else 0)))
            if self.kind() != "," or self.kind(1) != "time":
                return tuple(spans)
            self.take()


# ---------------------------------------------------------------- evaluation
def _china_holidays() -> "holidays.HolidayBase":
    """``holidays.country_holidays("CN")`` without the package's other ~250 countries (~7 MB in every worker).

    ``holidays.countries``' ``__init__`` imports every country module; China's module needs none of
    them: ``stations.lean_import.import_alone`` imports it without that ``__init__``.
    """
    from .lean_import import import_alone

    return import_alone("holidays.countries", "china").China()


_CN_HOLIDAYS = _china_holidays()
_HOLIDAYS_LOCK = threading.Lock()  # the package fills in a year's dates on its first lookup
_BREAK_MAX_DAYS = 12  # longer than any announced break (9 days in 2026): bounds the walk through one
MONDAY, FRIDAY, SATURDAY = 0, 4, 5


def _official_day_off(day: date) -> bool:
    """A statutory holiday or a weekday given off (the package's list); False beyond its data (logged)."""
    try:
        with _HOLIDAYS_LOCK:
            return day in _CN_HOLIDAYS
    except Exception:  # noqa: BLE001 - a gap in the calendar must not break opening hours
        log.warning("no public-holiday data for %s; treating it as an ordinary day", day)
        return False


def _swaps(year: int) -> tuple[set[date], dict[date, date]]:
    """(every make-up working day the package knows once ``year`` is filled in, the swaps announced with
    ``year``'s breaks: day worked -> day given off)."""
    with _HOLIDAYS_LOCK:
        try:
            _CN_HOLIDAYS.get(date(year, 1, 1))  # fills in the year, and with it its make-up days
            worked = set(_CN_HOLIDAYS.weekend_workdays)
        except Exception:  # noqa: BLE001 - as _official_day_off
            return set(), {}
        # The package's table of swaps: (month, day given off, month, day worked[, year worked]).
        table = getattr(_CN_HOLIDAYS, "special_public_holidays", None)
    pairs: dict[date, date] = {}
    for entry in table.get(year, ()) if isinstance(table, dict) else ():
        if isinstance(entry, tuple) and len(entry) in (4, 5) and all(type(v) is int for v in entry):
            to_month, to_day, from_month, from_day, *from_year = entry
            try:
                off = date(year, to_month, to_day)
                on = date(from_year[0] if from_year else year, from_month, from_day)
            except ValueError:
                continue
            if on in worked:
                pairs[on] = off
    return worked, pairs


@lru_cache(maxsize=64)
def _make_up_days(year: int) -> dict[date, date]:
    """The make-up working days (调休上班) in ``year`` -> the day off each pays for. A make-up day may be
    announced with the next year's breaks (a late-December Saturday for New Year's Day)."""
    worked_now, pairs_now = _swaps(year)
    worked_next, pairs_next = _swaps(year + 1)
    pairs = {**pairs_next, **pairs_now}
    out = {}
    for day in worked_now | worked_next:
        if day.year == year:  # unpaired (the table's layout may change): the nearest weekday
            out[day] = pairs.get(day) or (day - timedelta(days=1) if day.weekday() == SATURDAY
                                          else day + timedelta(days=1))
    return out


def make_up_day(day: date) -> date | None:
    """The day off that ``day`` is worked for, when ``day`` is a make-up working day (调休上班); else None."""
    if day.weekday() < SATURDAY:
        return None
    return _make_up_days(day.year).get(day)


def effective_weekday(day: date) -> int:
    """The weekday (0 = Monday) whose rules apply on ``day``: its own, or on a make-up working day the
    weekday it stands in for (see the module doc)."""
    paired = make_up_day(day)
    if paired is None:
        return day.weekday()
    if paired.weekday() < SATURDAY:
        return paired.weekday()
    return FRIDAY if day.weekday() == SATURDAY else MONDAY


def _day_off(day: date) -> bool:
    """Not a working day: an official day off, or a Saturday or Sunday that is not a make-up working day."""
    if _official_day_off(day):
        return True
    return day.weekday() >= SATURDAY and make_up_day(day) is None


@lru_cache(maxsize=4096)
def is_public_holiday(day: date) -> bool:
    """Whether ``day`` belongs to an announced holiday break (``PH``): a statutory holiday, a weekday given
    off, or a weekend day in a run of days off holding one of those (2026-02-15 to 02-23). False for years
    beyond the ``holidays`` package's data (logged)."""
    if _official_day_off(day):
        return True
    if not _day_off(day):
        return False
    for step in (-1, 1):  # walk the run of days off both ways, looking for a holiday in it
        other = day
        for _ in range(_BREAK_MAX_DAYS):
            other += timedelta(days=step)
            if _official_day_off(other):
                return True
            if not _day_off(other):
                break
    return False


def now_shanghai() -> datetime:
    """The current time as an aware datetime in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def _local(at: datetime) -> datetime:
    """Naive Asia/Shanghai wall-clock time of ``at`` (naive input already is Shanghai time)."""
    if not isinstance(at, datetime):
        raise TypeError(f"expected a datetime, got {at!r}")
    return at.astimezone(SHANGHAI).replace(tzinfo=None) if at.tzinfo else at


def _day_key(day: date) -> tuple:
    """(month, the weekday whose rules apply, in a holiday break): what rules select a day by."""
    return day.month, effective_weekday(day), is_public_holiday(day)


def _merge(spans: list) -> tuple:
    out: list = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return tuple(out)


def _cut(spans: tuple, s: int, e: int) -> tuple:
    return tuple(p for a, b in spans for p in ((a, min(b, s)), (max(a, e), b)) if p[0] < p[1])


class OpeningHours:
    """A parsed ``opening_hours`` value, e.g. ``OpeningHours("Mo-Fr 08:00-18:00; PH off")``.

    Parameters
    ----------
    text : str
        The OSM ``opening_hours`` value.

    Raises
    ------
    OpeningHoursError
        If ``text`` is not a string or not in the supported syntax (see the module docstring).
    """

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise OpeningHoursError(repr(text), 1, "", f"expected a string, got {type(text).__name__}")
        self.text = text
        self.rules = _Parser(text).parse()
        self._days: dict[tuple, tuple] = {}  # (key of a day, key of the day before) -> open spans

    def __repr__(self) -> str:
        return f"OpeningHours({self.text!r})"

    def _evaluate(self, today: tuple, yesterday: tuple) -> tuple:
        """Open (start, end) minute spans within a day, from its key and the day before's."""
        spans: tuple = ()
        for rule in self.rules:
            on_today, on_yesterday = rule.covers(today), rule.covers(yesterday)
            parts = [(s, min(e, DAY_MIN)) for s, e in rule.spans] if on_today else []
            parts += [(0, e - DAY_MIN) for s, e in rule.spans if e > DAY_MIN] if on_yesterday else []
            if rule.closed:
                for s, e in parts:
                    spans = _cut(spans, s, e)
                continue
            if on_today and not rule.additional:
                spans = ()  # a ';' rule replaces earlier rules on the days it selects
            spans = _merge([*spans, *parts])
        return spans

    def _spans_on(self, day: date) -> tuple:
        key = (_day_key(day), _day_key(day - timedelta(days=1)))
        if key not in self._days:
            self._days[key] = self._evaluate(*key)
        return self._days[key]

    def is_open(self, at: datetime) -> bool:
        """Whether open at ``at`` (naive: Asia/Shanghai time; aware: converted). Ends are exclusive."""
        local = _local(at)
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self._spans_on(local.date()))

    @cached_property
    def is_24_7(self) -> bool:
        """Whether open at every moment, however written (``24/7``, ``Mo-Su 00:00-24:00``...)."""
        keys = [(m, w, ph) for m in range(1, 13) for w in range(7) for ph in (False, True)]
        return all(self._evaluate(t, y) == ((0, DAY_MIN),) for t in keys for y in keys
                   if y[1] == (t[1] - 1) % 7 and y[0] in (t[0], (t[0] - 2) % 12 + 1))

    def next_change(self, at: datetime, horizon_days: int = 400) -> datetime | None:
        """The first moment after ``at`` when open/closed flips; None if none within the horizon.

        Naive in, naive out (Shanghai time); aware in, aware out (in Asia/Shanghai).
        """
        local = _local(at)
        state = self.is_open(local)
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            for minute in sorted({0, *(m for span in self._spans_on(day) for m in span)} - {DAY_MIN}):
                moment = datetime.combine(day, time()) + timedelta(minutes=minute)
                if moment > local and self.is_open(moment) != state:
                    return moment.replace(tzinfo=SHANGHAI) if at.tzinfo else moment
        return None

    def open_spans(self, first: date, days: int) -> list[tuple[datetime, datetime]]:
        """The moments open from ``first`` 00:00 for ``days`` days: merged ``[start, end)`` pairs of naive
        Asia/Shanghai times, minute-aligned. ``is_open(t)`` is true exactly when ``t`` (within those days)
        falls in one: what a page script may check offline (``stations.offline``)."""
        out: list[list[datetime]] = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            midnight = datetime.combine(day, time())
            for s, e in self._spans_on(day):
                start, end = midnight + timedelta(minutes=s), midnight + timedelta(minutes=e)
                if out and out[-1][1] == start:  # 24:00 of one day is 00:00 of the next: one span
                    out[-1][1] = end
                else:
                    out.append([start, end])
        return [(s, e) for s, e in out]

    def describe(self, lang: str = "zh") -> str:
        """Hours for display, e.g. ``周一至周五 08:00-18:00；法定节假日 休息``; ``lang``: zh or en.

        The words come from the catalogue (``hours.*`` keys, ``stations.i18n``)."""
        w = _words(lang)
        return "".join((w["additional_sep"] if r.additional else w["rule_sep"]) * (i > 0) + _describe(r, w)
                       for i, r in enumerate(self.rules))


# The catalogue's keys ``hours.<word>`` for describing hours, beside ``hours.<day>`` and ``hours.<month>``.
WORD_KEYS = ("PH", "list_sep", "every_day", "all_day", "off", "24_7", "rule_sep", "additional_sep", "range",
             "past_midnight")


@lru_cache(maxsize=None)
def _words(lang: str) -> dict[str, Any]:
    """The catalogue's words for describing hours in ``lang``: day and month names, separators."""
    words: dict[str, Any] = {key: gettext(f"hours.{key}", lang) for key in WORD_KEYS}
    words["days"] = tuple(gettext(f"hours.{d}", lang) for d in WEEKDAYS)
    words["months"] = tuple(gettext(f"hours.{m}", lang) for m in MONTHS)
    return words


def _describe(rule: _Rule, w: dict) -> str:
    def names(items: tuple, table: tuple, base: int) -> str:
        return w["list_sep"].join(w["PH"] if p == "PH" else table[p[0] - base] if p[0] == p[1]
                                  else w["range"].format(first=table[p[0] - base], last=table[p[1] - base])
                                  for p in items)

    def hhmm(minute: int) -> str:
        return f"{minute // 60 % 24:02d}:{minute % 60:02d}" if minute != DAY_MIN else "24:00"

    words = [w["24_7"]] if rule.always else []
    words += [names(rule.months, w["months"], 1)] if rule.months else []
    words += [names(rule.days, w["days"], 0)] if rule.days else []
    words += [] if rule.always or rule.months or rule.days else [w["every_day"]]
    if rule.timed:
        words.append(",".join(f"{hhmm(s)}-{hhmm(e)}" if e <= DAY_MIN else
                              w["past_midnight"].format(start=hhmm(s), end=hhmm(e)) for s, e in rule.spans))
    elif not (rule.closed or rule.always):
        words.append(w["all_day"])
    return " ".join(words + ([w["off"]] if rule.closed else []))


@lru_cache(maxsize=4096)
def parse_opening_hours(text: str) -> OpeningHours:
    """Parse ``text`` into an :class:`OpeningHours` (cached: the same text gives the same object)."""
    return OpeningHours(text)


def is_open(text: str, at: datetime) -> bool:
    """Whether ``text`` (an ``opening_hours`` value) says open at ``at``; parsing is cached."""
    return parse_opening_hours(text).is_open(at)


# ---- tolerant readers for stored values (None or unreadable text is "unknown") -----------------

def open_state(text: str | None, at: datetime) -> bool | None:
    """True/False when ``text`` says so at ``at``; None when there are no (readable) hours."""
    if not text:
        return None
    try:
        return parse_opening_hours(text).is_open(at)
    except ValueError:
        log.warning("unreadable opening_hours %r", text)
        return None


def state_at(text: str | None, at: datetime, status: str = "open") -> tuple[bool | None, datetime | None]:
    """(open at ``at``, when that next changes) of a station with opening hours ``text`` and ``status``.

    A station whose status is not ``open`` (temporarily closed, planned...) is not open, and its hours say
    nothing of when it will be: ``(False, None)``. Without (readable) hours: ``(None, None)``. The change is
    None when none comes within a year (24/7, ``off``); naive in, naive out, as ``next_change``."""
    if status != "open":
        return False, None
    now = open_state(text, at)
    if now is None:
        return None, None
    return now, parse_opening_hours(text).next_change(at)


def change_text(open_now: bool | None, change: datetime | None, now: datetime, lang: str = "zh") -> str:
    """When a station opens or closes next, in words, as the map's results show it (Asia/Shanghai time):
    closed now, "07:00 开放" (today), "明天 07:00 开放", "周一 07:00 开放" (within a week), "3月2日 07:00 开放";
    open now, "18:00 停止营业" (today only). "" when there is nothing to say. ``web/static/js/map.js``
    (``changeText``) writes the same."""
    if open_now is None or change is None:
        return ""
    change, now = _local(change), _local(now)
    days = (change.date() - now.date()).days
    clock = f"{change.hour:02d}:{change.minute:02d}"
    if open_now:
        return gettext("closes_at", lang, time=clock) if days == 0 else ""
    if days <= 0:
        return gettext("opens_at", lang, time=clock)
    if days == 1:
        return gettext("opens_tomorrow", lang, time=clock)
    w = _words(lang)
    if days < 7:
        return gettext("opens_on_day", lang, day=w["days"][change.weekday()], time=clock)
    date_text = gettext("date_md", lang, mon=w["months"][change.month - 1], day=change.day)
    return gettext("opens_on_date", lang, date=date_text, time=clock)


def open_around_the_clock(text: str | None) -> bool:
    """Whether ``text`` means open 24/7 (however written); False when missing or unreadable."""
    if not text:
        return False
    try:
        return parse_opening_hours(text).is_24_7
    except ValueError:
        return False


def describe_text(text: str | None, lang: str = "zh") -> str:
    """A readable description of ``text``; the raw text when unreadable, "" when missing."""
    if not text:
        return ""
    try:
        return parse_opening_hours(text).describe(lang)
    except ValueError:
        return text
