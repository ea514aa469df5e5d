"""Stations one cannot go to now (temporarily closed, planned, under construction) offer no walking
navigation and say what their status means; the pages say when a closed station opens (fixed clock)."""
from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import pytest

import web.pages
from stations.model import Station
from web.pages import TZ, status_notice

WED_0546 = datetime(2026, 11, 25, 5, 46, tzinfo=TZ)


@pytest.fixture
def at_0546(monkeypatch):
    monkeypatch.setattr(web.pages, "now_shanghai", lambda: WED_0546)


@pytest.mark.parametrize(("sid", "meaning"), [
    ("JN-RS-0003", "暂停开放：现在不能使用"), ("JN-RS-0006", "规划中：还没有建设"), ("JN-RS-0008", "正在建设：还没有开放"),
    ("JN-RS-0009", "已关闭：不再开放"),
])
def test_a_station_that_cannot_be_used_offers_no_navigation_and_says_why(client, sid, meaning):
    html = client.get(f"/stations/{sid}").get_data(as_text=True)
    assert "uri.amap.com/navigation" not in html and "api.map.baidu.com" not in html and "geo:" not in html
    assert 'class="status-notice' in html and meaning in html and "不提供步行导航" in html


def test_an_open_station_offers_navigation(client):
    html = client.get("/stations/JN-RS-0001").get_data(as_text=True)
    assert "uri.amap.com/navigation" in html and "status-notice" not in html


def test_the_english_page_says_it_too(client):
    html = client.get("/stations/JN-RS-0003?lang=en").get_data(as_text=True)
    assert "Temporarily closed: it cannot be used now" in html and "no walking directions" in html


def test_the_reason_and_reopening_date_are_shown_where_the_record_has_them():
    # issue 9's status_reason and reopens_on properties (a stand-in record holding them)
    station = SimpleNamespace(status="temporarily_closed", status_reason="水管维修", reopens_on="2026-12-01")
    assert status_notice(station, "zh") == {"meaning": "暂停开放：现在不能使用，请选择其他驿站。",
                                            "reason": "原因：水管维修", "reopens": "预计 2026-12-01 恢复开放。"}
    plain = Station(id="JN-RS-0006", name="x", kind="rest_station", lon=116.85, lat=35.40, status="planned")
    assert status_notice(plain, "en") == {"meaning": "Planned: not built yet, it cannot be used."}
    assert status_notice(Station(id="a", name="b", kind="rest_station", lon=1, lat=1), "zh") is None


def test_the_station_page_says_when_a_closed_station_opens(client, at_0546):
    html = client.get("/stations/JN-CP-0001").get_data(as_text=True)  # Tu-Su 09:00-17:00
    assert "未营业" in html and "09:00 开放" in html


def test_the_list_says_when_each_closed_station_opens(client, at_0546):
    html = client.get("/list").get_data(as_text=True)
    entry = re.search(r'<li class="entry status-open">\s*<h3><a href="/stations/JN-RS-0007".*?</li>', html, re.S).group(0)
    assert "未营业" in entry and "07:00 开放" in entry  # Mo-Sa 07:00-19:00


def test_the_map_page_says_what_the_list_holds(client):
    html = client.get("/").get_data(as_text=True)
    assert "营业中的优先；含户外劳动者驿站和提供饮水的工人文化宫" in html
    assert 'value="serves:passing_worker" checked' in html
