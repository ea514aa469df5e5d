"""Open now on China's official calendar: holiday breaks (PH) and make-up working days (调休上班).

The dates are written by hand from the State Council General Office's notice on the 2026 holidays
(国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04), not taken from the code under test:

- 春节: 2月15日（周日）至23日（周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
- 国庆节: 10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
- 元旦: 1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
- 劳动节: 5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。

The rule (stations/hours.py, "The official calendar"): PH is every day of a break; a make-up working
day follows the rules of the weekday it stands in for (the package pairs 2026-02-14 with Friday
2026-02-20, 2026-02-28 with Monday 2026-02-23, 2026-09-20 with Tuesday 2026-10-06, 2026-10-10 with
Wednesday 2026-10-07).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from stations.hours import effective_weekday, is_open, is_public_holiday, make_up_day, parse_opening_hours

SPRING_FESTIVAL_BREAK = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]  # 02-15 .. 02-23
NATIONAL_DAY_BREAK = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]  # 10-01 .. 10-07
MAKE_UP_DAYS = {  # day worked -> (its own weekday, the weekday whose work it does)
    date(2026, 1, 4): ("Su", "Fr"),
    date(2026, 2, 14): ("Sa", "Fr"),
    date(2026, 2, 28): ("Sa", "Mo"),
    date(2026, 5, 9): ("Sa", "Tu"),
    date(2026, 9, 20): ("Su", "Tu"),
    date(2026, 10, 10): ("Sa", "We"),
}
WEEKDAY = {"Mo": 0, "Tu": 1, "We": 2, "Th": 3, "Fr": 4, "Sa": 5, "Su": 6}
WEEKDAYS_ONLY = "Mo-Fr 08:00-18:00; PH off"


def at(day: date, hhmm: str = "10:00") -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m)


def test_the_hand_written_dates_are_on_the_weekdays_the_notice_says():
    assert [d.weekday() for d in (SPRING_FESTIVAL_BREAK[0], SPRING_FESTIVAL_BREAK[-1])] == [6, 0]  # 周日, 周一
    assert [d.weekday() for d in (NATIONAL_DAY_BREAK[0], NATIONAL_DAY_BREAK[-1])] == [3, 2]  # 周四, 周三
    assert all(day.weekday() == WEEKDAY[own] for day, (own, _) in MAKE_UP_DAYS.items())


@pytest.mark.parametrize("day", SPRING_FESTIVAL_BREAK + NATIONAL_DAY_BREAK, ids=str)
def test_every_day_of_a_break_is_a_public_holiday_weekends_included(day):
    assert is_public_holiday(day)
    assert not is_open(WEEKDAYS_ONLY, at(day))
    assert not is_open("Mo-Su 08:00-20:00; PH off", at(day))
    assert is_open("PH 09:00-12:00", at(day))


@pytest.mark.parametrize("day", [date(2026, 2, 13), date(2026, 2, 24), date(2026, 9, 30), date(2026, 10, 8),
                                 date(2026, 10, 9)], ids=str)
def test_the_working_days_around_a_break_are_ordinary(day):
    assert not is_public_holiday(day)
    assert is_open(WEEKDAYS_ONLY, at(day))


@pytest.mark.parametrize("day", list(MAKE_UP_DAYS), ids=str)
def test_a_weekdays_only_station_is_open_on_a_make_up_working_day(day):
    assert not is_public_holiday(day)
    assert is_open(WEEKDAYS_ONLY, at(day))  # shown closed before: a Saturday or Sunday
    assert not is_open(WEEKDAYS_ONLY, at(day, "07:00"))
    assert not is_open("Sa,Su 09:00-12:00", at(day))  # weekend hours do not apply on a working day
    assert is_open("Mo-Su 08:00-18:00", at(day))


@pytest.mark.parametrize(("day", "own", "worked_as"), [(d, own, w) for d, (own, w) in MAKE_UP_DAYS.items()], ids=str)
def test_a_make_up_working_day_follows_the_weekday_it_stands_in_for(day, own, worked_as):
    assert make_up_day(day) is not None and make_up_day(day).weekday() == WEEKDAY[worked_as]
    assert effective_weekday(day) == WEEKDAY[worked_as]
    hours = "Mo,We 08:00-12:00; Tu,Th,Fr 13:00-17:00"
    morning = worked_as in ("Mo", "We")
    assert is_open(hours, at(day, "10:00")) is morning
    assert is_open(hours, at(day, "14:00")) is not morning


def test_an_ordinary_weekend_is_not_a_make_up_day():
    assert make_up_day(date(2026, 2, 7)) is None and effective_weekday(date(2026, 2, 7)) == 5
    assert not is_open(WEEKDAYS_ONLY, at(date(2026, 2, 7)))
    assert not is_public_holiday(date(2026, 2, 7))


def test_next_change_crosses_the_spring_festival_break():
    hours = parse_opening_hours(WEEKDAYS_ONLY)
    # Friday 2026-02-13 evening: next opening is the make-up Saturday 02-14, then nothing until 02-24.
    assert hours.next_change(at(date(2026, 2, 13), "19:00")) == at(date(2026, 2, 14), "08:00")
    assert hours.next_change(at(date(2026, 2, 14), "19:00")) == at(date(2026, 2, 24), "08:00")


def test_next_change_crosses_the_national_day_break():
    hours = parse_opening_hours(WEEKDAYS_ONLY)
    # Saturday 2026-09-19 (ordinary) -> the make-up Sunday 09-20; 09-30 evening -> Thursday 10-08.
    assert hours.next_change(at(date(2026, 9, 19), "12:00")) == at(date(2026, 9, 20), "08:00")
    assert hours.next_change(at(date(2026, 9, 30), "19:00")) == at(date(2026, 10, 8), "08:00")
    assert hours.next_change(at(date(2026, 10, 9), "19:00")) == at(date(2026, 10, 10), "08:00")
