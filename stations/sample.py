"""Deterministic sample data for Jining: invented sites, each marked as sample data.

No public list of station coordinates exists, so the bundled stations are invented: every record
has ``"sample": true`` and a name marked 示例. Only 济宁市工人文化宫 (洸河路18号) is a real place;
its position is approximate and its other fields are illustrative.
"""
from __future__ import annotations

import random
from typing import Iterable

from .model import AMENITIES, Station

SEED = 370800

# County seats, approximate WGS-84 (lon, lat): sample sites cluster around them.
SEATS = {
    "370811": (116.587, 35.414),
    "370812": (116.783, 35.553),
    "370826": (117.129, 34.807),
    "370827": (116.650, 35.012),
    "370828": (116.311, 35.067),
    "370829": (116.342, 35.408),
    "370830": (116.497, 35.730),
    "370831": (117.251, 35.665),
    "370832": (116.097, 35.803),
    "370881": (116.986, 35.581),
    "370883": (116.966, 35.405),
}
# Rest stations per county: 60 in all, more in the city district and the bigger towns.
REST_COUNTS = {
    "370811": 12, "370883": 8, "370812": 6, "370881": 5, "370829": 5, "370828": 4,
    "370832": 4, "370830": 4, "370826": 4, "370831": 4, "370827": 4,
}
PALACES_UNDER_CONSTRUCTION = {"370883", "370827", "370832"}  # 邹城, 鱼台, 梁山 (city report, 2019)
BASE_STATUS = {"370826": "planned", "370827": "planned", "370831": "planned", "370828": "under_construction"}

HOURS = [
    "24/7",
    "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
    "Mo-Su 07:00-20:00",
    "Mo-Fr 08:00-12:00,14:00-18:00; PH off",
    "06:00-22:00",
    "Mo-Sa 07:30-19:30; Su 09:00-16:00",
]
BASIC = ["drinking_water", "hot_water", "seating", "phone_charging"]
EXTRA = [a for a in AMENITIES if a not in BASIC]
SOURCE = "示例数据 sample data (scripts/make_sample.py): invented for demonstration, not a real site"
CITY_PALACE_SOURCE = ("real place: 济宁市工人文化宫, 洸河路18号 (city federation of trade unions); "
                      "position approximate, other fields illustrative sample data")


def _point_in(counties, code: str, rng: random.Random, spread_deg: float) -> tuple[float, float]:
    lon0, lat0 = SEATS.get(code) or _inner_point(counties, code)
    if counties.locate(lon0, lat0) != code:
        lon0, lat0 = _inner_point(counties, code)
    for _ in range(500):
        lon = lon0 + rng.gauss(0, spread_deg)
        lat = lat0 + rng.gauss(0, spread_deg * 0.8)
        if counties.locate(lon, lat) == code:
            return round(lon, 6), round(lat, 6)
    return lon0, lat0


def _inner_point(counties, code: str) -> tuple[float, float]:
    p = counties.geometry(code).representative_point()
    return round(p.x, 6), round(p.y, 6)


def make_sample(counties, seed: int = SEED) -> list[Station]:
    """The bundled sample: 60 rest stations, 11 palaces, 11 bases, all inside their counties."""
    rng = random.Random(seed)
    out: list[Station] = []
    n = 0
    for code in sorted(REST_COUNTS):
        county = counties.name(code)
        for i in range(REST_COUNTS[code]):
            n += 1
            lon, lat = _point_in(counties, code, rng, 0.035 if i < REST_COUNTS[code] * 2 // 3 else 0.09)
            amenities = BASIC[: rng.randint(2, 4)] + rng.sample(EXTRA, rng.randint(1, 6))
            status = "open"
            if n in (17, 41):
                status = "temporarily_closed"
            elif n == 29:
                status = "closed"
            elif n in (8, 52):
                status = "under_construction"
            out.append(Station(
                id=f"JN-RS-{n:04d}", name=f"{county}示例驿站{i + 1:02d}号", kind="rest_station",
                lon=lon, lat=lat, county_code=code, address=f"{county}（示例地址，非真实地点）",
                phone=f"0537-000{n:04d}", opening_hours=rng.choice(HOURS),
                amenities=tuple(a for a in AMENITIES if a in amenities),
                host=rng.choice(["环卫所（示例）", "银行网点（示例）", "加油站（示例）", "社区服务中心（示例）",
                                 "快递网点（示例）", "公园管理处（示例）"]),
                status=status, opened_on=f"20{rng.randint(19, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                last_verified_on=f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
                floor_area_m2=float(rng.randint(15, 80)), sample=True, source=SOURCE,
            ))
    out.extend(_palaces(counties, rng))
    out.extend(_bases(counties, rng))
    return out


def _palaces(counties, rng: random.Random) -> Iterable[Station]:
    yield Station(
        id="JN-CP-0001", name="济宁市工人文化宫（示例记录）", kind="cultural_palace",
        lon=116.5795, lat=35.4077, county_code="370811", address="济宁市任城区洸河路18号",
        opening_hours="Mo-Su 08:30-21:00", status="open", palace_class=1, floor_area_m2=15800.0,
        host="济宁市总工会", amenities=("drinking_water", "toilet", "seating", "reading_corner",
                                    "wifi", "air_conditioning", "heating"),
        sample=True, source=CITY_PALACE_SOURCE,
    )
    n = 1
    for code in sorted(c for c in REST_COUNTS if c != "370811"):
        n += 1
        county = counties.name(code)
        building = code in PALACES_UNDER_CONSTRUCTION
        lon, lat = _point_in(counties, code, rng, 0.01)
        yield Station(
            id=f"JN-CP-{n:04d}", name=f"{county}工人文化宫（示例）", kind="cultural_palace",
            lon=lon, lat=lat, county_code=code, address=f"{county}（示例地址，非真实地点）",
            opening_hours=None if building else "Tu-Su 09:00-17:00; PH off",
            status="under_construction" if building else "open",
            palace_class=None if building else rng.choice([1, 2, 2, 3]),
            floor_area_m2=float(rng.randint(5200, 9000) if building else rng.randint(2000, 8000)),
            host=f"{county}总工会（示例）", amenities=() if building else ("drinking_water", "toilet", "seating", "reading_corner"),
            sample=True, source=SOURCE,
        )


def _bases(counties, rng: random.Random) -> Iterable[Station]:
    for n, code in enumerate(sorted(REST_COUNTS), start=1):
        county = counties.name(code)
        status = BASE_STATUS.get(code, "open")
        lon, lat = _point_in(counties, code, rng, 0.12)
        yield Station(
            id=f"JN-CB-{n:04d}", name=f"{county}劳模疗休养基地（示例）", kind="convalescence_base",
            lon=lon, lat=lat, county_code=code, address=f"{county}（示例地址，非真实地点）",
            opening_hours="24/7" if status == "open" else None, status=status,
            beds=rng.randint(20, 120), host=f"{county}总工会（示例）",
            amenities=("drinking_water", "hot_water", "toilet", "seating", "wifi", "heating", "air_conditioning")
            if status == "open" else (),
            sample=True, source=SOURCE,
        )
