"""OSM opening_hours: parsing, open/closed at given times, public holidays, time zones, errors.

Every expected value below was worked out by hand from the calendar, not by the code under test.
Reference week (no Chinese public holidays in it): 2026-11-23 is a Monday ... 2026-11-29 a Sunday.
2026-10-01 (Thursday) is National Day; 2026-10-15 is an ordinary Thursday.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from stations.errors import ValidationError
from stations.hours import (
    OpeningHours, OpeningHoursError, is_open, is_public_holiday, now_shanghai, parse_opening_hours,
)

MON, TUE, WED, THU, FRI, SAT, SUN = (f"2026-11-{d}" for d in range(23, 30))


def at(day: str, hhmm: str) -> datetime:
    """Naive (Asia/Shanghai wall-clock) datetime from '2026-11-25' and '09:00'."""
    return datetime.fromisoformat(f"{day}T{hhmm}")


def test_reference_dates_fall_on_the_weekdays_the_tables_assume():
    assert [date.fromisoformat(d).strftime("%a") for d in (MON, WED, SAT, SUN)] == [
        "Mon", "Wed", "Sat", "Sun"]
    assert date(2026, 10, 1).strftime("%a") == date(2026, 10, 15).strftime("%a") == "Thu"


OPEN_CASES = [
    # weekdays vs weekend
    ("Mo-Fr 08:00-18:00", WED, "09:00", True),
    ("Mo-Fr 08:00-18:00", SAT, "09:00", False),
    ("Mo-Fr 08:00-18:00", SUN, "12:00", False),
    # boundaries: start inclusive, end exclusive
    ("Mo-Fr 08:00-18:00", WED, "07:59", False),
    ("Mo-Fr 08:00-18:00", WED, "08:00", True),
    ("Mo-Fr 08:00-18:00", WED, "17:59", True),
    ("Mo-Fr 08:00-18:00", WED, "18:00", False),
    ("24/7", SUN, "03:00", True),
    # day lists, mixed lists and wrap-around ranges
    ("Sa,Su 09:00-12:00", SAT, "10:00", True),
    ("Sa,Su 09:00-12:00", MON, "10:00", False),
    ("Mo-We,Fr 08:00-12:00", WED, "10:00", True),
    ("Mo-We,Fr 08:00-12:00", THU, "10:00", False),
    ("Mo-We,Fr 08:00-12:00", FRI, "10:00", True),
    ("Fr-Mo 10:00-16:00", SUN, "12:00", True),
    ("Fr-Mo 10:00-16:00", MON, "12:00", True),
    ("Fr-Mo 10:00-16:00", TUE, "12:00", False),
    # several spans; no days means every day; no times means all day
    ("08:00-12:00,14:00-18:00", SAT, "13:00", False),
    ("08:00-12:00,14:00-18:00", SAT, "15:00", True),
    ("08:00-12:00, 14:00-18:00", SAT, "12:00", False),
    ("Mo-Fr", WED, "03:00", True),
    ("Mo-Fr", SAT, "03:00", False),
    # whitespace tolerance
    ("  Mo - Fr   08:00 - 18:00 ;Sa 09:00-10:00  ", SAT, "09:30", True),
    # past midnight belongs to the day it starts on
    ("Fr 22:00-02:00", FRI, "21:59", False),
    ("Fr 22:00-02:00", FRI, "23:00", True),
    ("Fr 22:00-02:00", SAT, "01:00", True),
    ("Fr 22:00-02:00", SAT, "02:00", False),
    ("Fr 22:00-02:00", FRI, "01:00", False),  # Thursday night: no rule
    ("Mo-Su 22:00-02:00", TUE, "01:00", True),  # Monday's span, although Tuesday's rule also applies
    ("Mo-Su 18:00-24:00", MON, "23:59", True),
    ("Mo-Su 18:00-24:00", TUE, "00:00", False),
    ("18:00-00:00", THU, "00:00", False),  # 00:00 as an end means midnight, like 24:00
    ("18:00-00:00", WED, "23:30", True),
    # ';' rules override earlier ones for the days they select, whatever their order
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", WED, "09:00", False),
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", WED, "11:00", True),
    ("Mo-Fr 08:00-18:00; We 10:00-12:00", THU, "09:00", True),
    ("We 10:00-12:00; Mo-Fr 08:00-18:00", WED, "09:00", True),
    ("Mo-Fr 08:00-18:00; 10:00-12:00", WED, "09:00", False),  # no days = every day, overrides too
    ("Mo-Su 08:00-18:00; We off", WED, "10:00", False),
    ("Mo-Su 08:00-18:00; We closed", WED, "10:00", False),
    ("Mo-Su 08:00-18:00; We off", THU, "10:00", True),
    ("Mo-Fr 08:00-18:00; We 12:00-14:00 off", WED, "13:00", False),  # off with times: just those
    ("Mo-Fr 08:00-18:00; We 12:00-14:00 off", WED, "11:00", True),
    ("off", WED, "10:00", False),
    ("Mo-Fr open", WED, "10:00", True),
    # ... including the small hours of the previous evening's span (as in opening_hours.js)
    ("Fr 22:00-02:00; Sa 10:00-18:00", SAT, "01:00", False),
    ("Fr 22:00-02:00; Sa off", SAT, "01:00", False),
    ("Fr 22:00-02:00; Fr off", SAT, "01:00", True),  # as in opening_hours.js: Fr rules stop at 24:00
    # ',' after a complete rule adds instead of overriding
    ("Fr 22:00-02:00, Sa 10:00-18:00", SAT, "01:00", True),
    ("Mo-Fr 08:00-12:00, We 14:00-16:00", WED, "09:00", True),
    ("Mo-Fr 08:00-12:00, We 14:00-16:00", WED, "15:00", True),
    ("Mo-Fr 08:00-12:00, We 14:00-16:00", THU, "15:00", False),
    # months, including wrap-around and the ':' separator
    ("May-Sep 06:00-20:00; Oct-Apr 08:00-18:00", "2026-07-15", "07:00", True),
    ("May-Sep 06:00-20:00; Oct-Apr 08:00-18:00", WED, "07:00", False),
    ("May-Sep 06:00-20:00; Oct-Apr 08:00-18:00", WED, "17:00", True),
    ("May-Sep 06:00-20:00; Oct-Apr 08:00-18:00", "2026-07-15", "19:00", True),
    ("Mo-Su 08:00-18:00; Nov-Feb off", WED, "10:00", False),
    ("Mo-Su 08:00-18:00; Nov-Feb off", "2027-01-13", "10:00", False),
    ("Mo-Su 08:00-18:00; Nov-Feb off", "2026-07-15", "10:00", True),
    ("Jan,Jul: 08:00-12:00", "2026-07-15", "10:00", True),
    ("Jan,Jul: 08:00-12:00", WED, "10:00", False),
    ("Jun-Aug Sa,Su 06:00-10:00", "2026-07-18", "07:00", True),  # a Saturday in July
    ("Jun-Aug Sa,Su 06:00-10:00", SAT, "07:00", False),
    # public holidays: 2026-10-01 is National Day (a Thursday), 2026-10-15 an ordinary Thursday
    ("Mo-Fr 08:00-18:00; PH off", "2026-10-01", "10:00", False),
    ("Mo-Fr 08:00-18:00; PH off", "2026-10-15", "10:00", True),
    ("Mo-Fr 08:00-18:00, PH off", "2026-10-01", "10:00", False),
    ("PH off", "2026-10-15", "10:00", False),
    ("PH 09:00-12:00", "2026-10-01", "10:00", True),
    ("PH 09:00-12:00", "2026-10-15", "10:00", False),
    ("Mo-Fr 08:00-18:00; PH 09:00-12:00", "2026-10-01", "08:30", False),
    ("Mo-Fr 08:00-18:00; PH 09:00-12:00", "2026-10-01", "10:00", True),
    ("Mo-Fr 08:00-18:00; PH 09:00-12:00", "2026-10-01", "13:00", False),
    ("Mo-Fr 08:00-18:00; PH 09:00-12:00", "2026-10-15", "13:00", True),
    ("Sa,Su,PH 09:00-12:00", "2026-10-01", "10:00", True),
    ("Sa,Su,PH 09:00-12:00", "2026-10-15", "10:00", False),
    ("24/7; PH off", "2026-10-01", "03:00", False),
    ("24/7; PH off", "2026-10-15", "03:00", True),
    # 2101-10-03 (a Monday) is past the holidays package's range: treated as a working day
    ("Mo-Fr 08:00-18:00; PH off", "2101-10-03", "10:00", True),
]


@pytest.mark.parametrize(("text", "day", "hhmm", "expected"), OPEN_CASES)
def test_is_open_at_naive_shanghai_time(text, day, hhmm, expected):
    assert OpeningHours(text).is_open(at(day, hhmm)) is expected
    assert is_open(text, at(day, hhmm)) is expected


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc), True),  # 09:00 Wednesday in Shanghai
    (datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc), False),  # 07:30 Wednesday in Shanghai
    (datetime(2026, 11, 25, 10, 30, tzinfo=timezone.utc), False),  # 18:30 Wednesday in Shanghai
    (datetime(2026, 11, 24, 20, 0, tzinfo=ZoneInfo("America/New_York")), True),  # = 01:00Z
    (datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), True),
    (datetime(2026, 11, 25, 1, 0), False),  # naive: 01:00 in Shanghai
])
def test_aware_datetimes_are_converted_to_shanghai_time(moment, expected):
    assert is_open("Mo-Fr 08:00-18:00", moment) is expected


def test_public_holidays_come_from_the_chinese_calendar():
    assert is_public_holiday(date(2026, 10, 1))  # National Day
    assert is_public_holiday(date(2026, 1, 1))  # New Year's Day
    assert not is_public_holiday(date(2026, 10, 15))
    assert not is_public_holiday(date(2101, 10, 1))  # beyond the package's data


@pytest.mark.parametrize(("text", "expected"), [
    ("24/7", True),
    ("Mo-Su 00:00-24:00", True),
    ("00:00-24:00", True),
    ("Mo-Su 00:00-12:00,12:00-24:00", True),
    ("Mo-Fr 00:00-24:00", False),
    ("24/7; PH off", False),
    ("Mo-Su 08:00-18:00", False),
    ("off", False),
])
def test_is_24_7_judges_meaning_not_spelling(text, expected):
    assert parse_opening_hours(text).is_24_7 is expected


@pytest.mark.parametrize(("text", "start", "expected"), [
    ("Mo-Fr 08:00-18:00", at(WED, "09:00"), at(WED, "18:00")),
    ("Mo-Fr 08:00-18:00", at(WED, "07:15"), at(WED, "08:00")),
    ("Mo-Fr 08:00-18:00", at(FRI, "19:00"), at("2026-11-30", "08:00")),  # next Monday
    ("Mo-Fr 08:00-18:00", at(WED, "18:00"), at(THU, "08:00")),
    ("Fr 22:00-02:00", at(FRI, "23:00"), at(SAT, "02:00")),
    ("Mo-Su 08:00-12:00,12:00-18:00", at(WED, "09:00"), at(WED, "18:00")),  # 12:00 is no change
    # National Day holidays 2026: Oct 1-7; Thursday Oct 8 is a working day again
    ("Mo-Fr 08:00-18:00; PH off", at("2026-09-30", "19:00"), at("2026-10-08", "08:00")),
    ("24/7", at(WED, "09:00"), None),
    ("off", at(WED, "09:00"), None),
])
def test_next_change(text, start, expected):
    assert parse_opening_hours(text).next_change(start) == expected


def test_next_change_keeps_aware_datetimes_aware():
    start = datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)  # 09:00 Shanghai
    change = parse_opening_hours("Mo-Fr 08:00-18:00").next_change(start)
    assert change == datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc)  # 18:00 Shanghai
    assert change.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(("text", "zh", "en"), [
    ("Mo-Fr 08:00-18:00; PH off", "周一至周五 08:00-18:00；法定节假日 休息",
     "Mon-Fri 08:00-18:00; public holidays closed"),
    ("24/7", "全天24小时开放", "open 24/7"),
    ("Sa,Su 09:00-12:00,14:00-17:00", "周六、周日 09:00-12:00,14:00-17:00",
     "Sat, Sun 09:00-12:00,14:00-17:00"),
    ("Fr 22:00-02:00", "周五 22:00-次日02:00", "Fri 22:00-02:00 (next day)"),
    ("May-Sep 06:00-20:00", "5月至9月 06:00-20:00", "May-Sep 06:00-20:00"),
    ("08:00-18:00", "每天 08:00-18:00", "daily 08:00-18:00"),
    ("Mo-Fr 08:00-12:00, We 14:00-16:00", "周一至周五 08:00-12:00，周三 14:00-16:00",
     "Mon-Fri 08:00-12:00, Wed 14:00-16:00"),
])
def test_describe_in_chinese_and_english(text, zh, en):
    hours = parse_opening_hours(text)
    assert (hours.describe(), hours.describe("en")) == (zh, en)


def test_describe_rejects_unknown_language():
    with pytest.raises(ValueError, match="'fr'"):
        parse_opening_hours("24/7").describe("fr")


ERROR_CASES = [
    # text, column, token, part of the reason
    ("Mo-Fx 08:00-18:00", 4, "Fx", "unknown word"),
    ("25:00-26:00", 1, "25:00", "no such time"),
    ("22:00-26:00", 7, "26:00", "22:00-02:00"),
    ("08:60-18:00", 1, "08:60", "minutes 00-59"),
    ("8:00-18:00", 1, "8:00", "two digits each"),
    ("08:00-", 7, "", "end time"),
    ("Mo-Fr 08:00", 12, "", "needs an end"),
    ("", 1, "", "empty"),
    ("   ", 1, "", "empty"),
    ("Mo-Fr 08:00-18:00 || PH off", 19, "||", "'||'"),
    ("mo-fr 08:00-18:00", 1, "mo", "case-sensitive, write 'Mo'"),
    ("Mo-Fr 08:00-18:00 OFF", 19, "OFF", "write 'off'"),
    ("Monday 08:00-18:00", 1, "Monday", "two-letter days"),
    ("Mo-Fr 08:00-18:00;", 18, ";", "nothing after ';'"),
    (";Mo 08:00-12:00", 1, ";", "expected a rule"),
    ("Mo-Fr 08:00-18:00; ; Sa off", 20, ";", "expected a rule"),
    ("Mo-Fr 08:00-18:00 Sa 09:00-12:00", 19, "Sa", "expected '; '"),
    ("Mo-Fr 08:00-12:00 14:00-18:00", 19, "14:00", "separate several times with ','"),
    ("Mo, 08:00-12:00", 5, "08:00", "another day or PH after ','"),
    ("Mo-PH 08:00-12:00", 4, "PH", "expected a day after '-'"),
    ("PH-Su off", 3, "-", "PH cannot be part of a range"),
    ("24:00-02:00", 1, "24:00", "24:00 can only end a span"),
    ("08:00-08:00", 7, "08:00", "same time"),
    ("Mo 24/7", 4, "24/7", "rule of its own"),
    ("Mo-Fr 08:00–18:00", 12, "–", "ASCII '-'"),
    ("Mo-Fr 08:00-18:00；PH off", 18, "；", "ASCII ';'"),
    ('Mo-Fr 08:00-18:00 "call first"', 19, '"', "comments"),
    ("Dec 25 off", 5, "25", "dates"),
    ("SH off", 1, "SH", "'SH' is not supported"),
    ("sunrise-sunset", 1, "sunrise", "not supported"),
    ("Mo[1] 08:00-12:00", 3, "[", "nth weekdays"),
    ("Sa 10:00+", 9, "+", "open ends"),
    ("Mo 08:00-12:00-14:00", 15, "-", "'-' must join"),
    ("Mo-Fr Jan 08:00-12:00", 7, "Jan", "months come first"),
    ("周一至周五 08:00-18:00", 1, "周一至周五", "unknown word"),
    ("Mo-Fr ０８:００-18:00", 7, "０", "unexpected character"),  # full-width digits
]


@pytest.mark.parametrize(("text", "column", "token", "reason"), ERROR_CASES)
def test_errors_quote_the_text_and_point_at_the_bad_part(text, column, token, reason):
    with pytest.raises(OpeningHoursError) as info:
        OpeningHours(text)
    err = info.value
    assert (err.text, err.column, err.token) == (text, column, token)
    assert reason in err.reason
    message = str(err)
    assert repr(text) in message and reason in message
    assert f"column {column}" in message and "allowed:" in message


def test_errors_are_validation_errors_and_value_errors():
    with pytest.raises(ValidationError) as info:
        parse_opening_hours("Mo-Fx 08:00-18:00")
    assert isinstance(info.value, ValueError)
    (problem,) = info.value.problems
    assert (problem.field, problem.value) == ("opening_hours", "Mo-Fx 08:00-18:00")


def test_non_string_is_an_opening_hours_error():
    with pytest.raises(OpeningHoursError, match="expected a string"):
        OpeningHours(None)


def test_is_open_needs_a_datetime():
    with pytest.raises(TypeError, match="datetime"):
        OpeningHours("24/7").is_open(date(2026, 11, 25))


def test_parsing_is_cached():
    assert parse_opening_hours("Mo-Fr 08:00-18:00") is parse_opening_hours("Mo-Fr 08:00-18:00")


def test_now_shanghai_is_aware_and_at_utc_plus_8():
    now = now_shanghai()
    assert now.utcoffset() == timedelta(hours=8)
    assert abs(now - datetime.now(timezone.utc)) < timedelta(minutes=1)


# ---- tolerant readers used by the map, the list and the nearest filter ------------------------

def test_open_state_is_unknown_for_missing_or_unreadable_hours():
    from stations.hours import open_state

    thursday_10 = datetime(2026, 11, 26, 10, 0)
    thursday_20 = datetime(2026, 11, 26, 20, 0)
    assert open_state("Mo-Fr 08:00-18:00", thursday_10) is True
    assert open_state("Mo-Fr 08:00-18:00", thursday_20) is False
    assert open_state(None, thursday_10) is None
    assert open_state("", thursday_10) is None
    assert open_state("Mo-Fx 08:00-18:00", thursday_10) is None


def test_open_around_the_clock_reads_meaning_not_spelling():
    from stations.hours import open_around_the_clock

    assert open_around_the_clock("24/7") and open_around_the_clock("Mo-Su 00:00-24:00")
    assert not open_around_the_clock("24/7; PH off")
    assert not open_around_the_clock("00:00-23:59")
    assert not open_around_the_clock(None) and not open_around_the_clock("nonsense")


def test_describe_text_falls_back_to_raw_text():
    from stations.hours import describe_text

    assert describe_text(None) == ""
    assert describe_text("Mo-Fx 08:00-18:00") == "Mo-Fx 08:00-18:00"
    assert "08:00-18:00" in describe_text("Mo-Fr 08:00-18:00", "en")
