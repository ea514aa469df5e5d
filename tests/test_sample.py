"""The bundled sample data: deterministic, inside its counties, and honest about being sample data."""
import json
from collections import Counter
from pathlib import Path

from stations.counties import Counties
from stations.sample import make_sample
from stations.store import dumps, to_feature_collection

ROOT = Path(__file__).resolve().parent.parent
COUNTIES = Counties.load(ROOT / "geodata" / "counties.geojson")


def test_sample_is_deterministic_and_matches_bundled_file():
    a, b = make_sample(COUNTIES), make_sample(COUNTIES)
    assert a == b
    bundled = json.loads((ROOT / "geodata" / "stations.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["id"] for f in bundled["features"]] == sorted(s.id for s in a)
    assert bundled["features"] == to_feature_collection(a)["features"]


def test_sample_composition():
    records = make_sample(COUNTIES)
    kinds = Counter(s.kind for s in records)
    assert kinds == {"rest_station": 60, "cultural_palace": 11, "convalescence_base": 11}
    rest_by_county = Counter(s.county_code for s in records if s.kind == "rest_station")
    assert set(rest_by_county) == set(COUNTIES.codes)  # spread over all 11 counties
    assert rest_by_county["370811"] == max(rest_by_county.values())  # most in 任城区
    bases = Counter(s.county_code for s in records if s.kind == "convalescence_base")
    assert set(bases) == set(COUNTIES.codes) and set(bases.values()) == {1}
    assert any(s.status == "planned" for s in records if s.kind == "convalescence_base")
    building = {COUNTIES.name(s.county_code) for s in records
                if s.kind == "cultural_palace" and s.status == "under_construction"}
    assert building == {"邹城市", "鱼台县", "梁山县"}


def test_every_record_is_inside_its_county_and_marked_sample():
    for s in make_sample(COUNTIES):
        assert COUNTIES.locate(s.lon, s.lat) == s.county_code, s.id
        assert s.sample is True
        assert "示例" in s.name, s.name
        if s.id != "JN-CP-0001":
            assert "invented" in s.source or "示例" in s.source
    real = [s for s in make_sample(COUNTIES) if "real place" in (s.source or "")]
    assert [s.name for s in real] == ["济宁市工人文化宫（示例记录）"]
    assert "洸河路18号" in real[0].address
