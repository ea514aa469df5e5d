"""The store interface's contract, run on every backend: reading, querying, writing, versions.

Expected values are computed here from ``STATION_FEATURES`` and ``COUNTY_BOXES`` (conftest),
never through the store. History and revert: ``test_store_history``.
"""
from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest

from conftest import STATION_FEATURES, county_of
from stations.errors import (
    Conflict, InvalidRecord, NotFound, StaleVersion, StoredDataError, StoreUnavailable, ValidationError, YizhanError,
)
from stations.model import Station
from stations.store import Page, StationStore

pytest_plugins = ["store_backends"]  # the ``store`` fixture: once per backend

RECORDS = [
    SimpleNamespace(id=f["properties"]["id"], kind=f["properties"]["kind"], status=f["properties"]["status"],
                    county=f["properties"].get("county_code") or county_of(*f["geometry"]["coordinates"]),
                    amenities=set(f["properties"].get("amenities", ())), lon=f["geometry"]["coordinates"][0],
                    lat=f["geometry"]["coordinates"][1])
    for f in STATION_FEATURES
]
ALL_IDS = sorted(r.id for r in RECORDS)
IN_370812 = [116.85, 35.45]  # WGS-84 [lon, lat] inside the fixture county 370812 (兖州区)


def ids_where(test) -> list[str]:
    return sorted(r.id for r in RECORDS if test(r))


def feature(coords, **props):
    """A new rest station Feature at ``coords`` (WGS-84 [lon, lat]) without an id unless given."""
    base = {"name": "新驿站", "kind": "rest_station", "status": "open", "amenities": ["drinking_water"]}
    base.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords}, "properties": base}


def fields_of(excinfo) -> set[tuple[str, str]]:
    return {(p.record, p.field) for p in excinfo.value.problems}


def test_every_backend_implements_the_interface(store):
    assert isinstance(store, StationStore)


# ---- reading -----------------------------------------------------------------------------------

def test_all_gives_every_station_by_id_with_its_county(store):
    stations = store.all()
    assert [s.id for s in stations] == ALL_IDS
    assert {s.id: s.county_code for s in stations} == {r.id: r.county for r in RECORDS}
    assert store.get("JN-RS-0006").county_code == "370812"  # not in the data: derived from the point


def test_get_gives_one_station_and_an_unknown_id_is_not_found(store):
    station = store.get("JN-CP-0001")
    assert isinstance(station, Station) and station.name == "济宁市工人文化宫"
    assert (station.lon, station.lat) == (116.59, 35.41)
    with pytest.raises(NotFound, match="JN-XX-0404") as excinfo:
        store.get("JN-XX-0404")
    assert excinfo.value.http_status == 404


@pytest.mark.parametrize("filters, test", [
    ({}, lambda r: True),
    ({"kind": "cultural_palace"}, lambda r: r.kind == "cultural_palace"),
    ({"kind": ["cultural_palace", "convalescence_base"]}, lambda r: r.kind != "rest_station"),
    ({"status": "open"}, lambda r: r.status == "open"),
    ({"status": ("planned", "under_construction")}, lambda r: r.status in ("planned", "under_construction")),
    ({"county": "370812"}, lambda r: r.county == "370812"),
    ({"county": ["370812", "370883"]}, lambda r: r.county in ("370812", "370883")),
    ({"amenity": ["toilet", "microwave"]}, lambda r: {"toilet", "microwave"} <= r.amenities),
    ({"amenity": "wifi"}, lambda r: "wifi" in r.amenities),
    ({"amenity": ["toilet", "wifi"]}, lambda r: False),
    ({"bbox": (116.58, 35.41, 116.60, 35.42)}, lambda r: 116.58 <= r.lon <= 116.60 and 35.41 <= r.lat <= 35.42),
    ({"kind": "rest_station", "status": "open", "county": "370811", "amenity": ["toilet"]},
     lambda r: r.kind == "rest_station" and r.status == "open" and r.county == "370811" and "toilet" in r.amenities),
])
def test_query_gives_the_stations_passing_every_filter_by_id(store, filters, test):
    page = store.query(**filters)
    assert isinstance(page, Page)
    assert [s.id for s in page] == ids_where(test)
    assert page.total == len(page) and page.next_offset is None


def test_a_bbox_includes_its_edges(store):
    assert [s.id for s in store.query(bbox=(116.58, 35.42, 116.58, 35.42))] == ["JN-RS-0003"]  # a point box
    assert len(store.query(bbox=(116.5801, 35.42, 116.59, 35.43))) == 0


def test_query_pages_in_id_order(store):
    pages, offset = [], 0
    while offset is not None:
        page = store.query(limit=5, offset=offset)
        assert page.total == len(ALL_IDS) and page.offset == offset and page.limit == 5
        pages.append([s.id for s in page])
        offset = page.next_offset
    assert [len(p) for p in pages] == [5, 5, 3]
    assert sum(pages, []) == ALL_IDS
    filtered = store.query(status="open", limit=2, offset=2)
    assert [s.id for s in filtered] == ids_where(lambda r: r.status == "open")[2:4]
    assert filtered.total == len(ids_where(lambda r: r.status == "open")) and filtered.next_offset == 4
    beyond = store.query(offset=100)
    assert len(beyond) == 0 and beyond.total == len(ALL_IDS) and beyond.next_offset is None
    counted = store.query(kind="cultural_palace", limit=0)
    assert len(counted) == 0 and counted.total == 2 and counted.next_offset == 0


def test_query_names_every_bad_argument_at_once(store):
    with pytest.raises(ValidationError) as excinfo:
        store.query(kind="spa", status="maybe", amenity=["jacuzzi", "toilet"], bbox=(1, 2, 3))
    assert {f for _, f in fields_of(excinfo)} == {"kind", "status", "amenity", "bbox"}
    assert excinfo.value.http_status == 400 and not isinstance(excinfo.value, InvalidRecord)
    assert "jacuzzi" in str(excinfo.value)
    for bad in [(117.0, 35.0, 116.0, 36.0), (116.0, 36.0, 117.0, 35.0), (116.0, 35.0, 117.0, 95.0),
                (116.0, 35.0, float("nan"), 36.0), "116,35,117,36"]:
        with pytest.raises(ValidationError, match="bbox"):
            store.query(bbox=bad)
    for county in [370811, ["370811", 370812]]:
        with pytest.raises(ValidationError, match="county"):
            store.query(county=county)
    for paging in [{"limit": -1}, {"limit": "5"}, {"offset": -1}, {"offset": None}, {"limit": True}]:
        with pytest.raises(ValidationError, match="limit|offset"):
            store.query(**paging)


def test_query_for_an_unknown_county_is_not_found(store):
    with pytest.raises(NotFound, match="999999") as excinfo:
        store.query(county="999999")
    assert excinfo.value.http_status == 404


def test_to_geojson_gives_a_feature_collection_of_all_or_of_a_page(store):
    collection = store.to_geojson()
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["id"] for f in collection["features"]] == ALL_IDS
    assert collection["features"][0]["geometry"]["type"] == "Point"
    page = store.query(county="370883")
    assert [f["id"] for f in store.to_geojson(page)["features"]] == ids_where(lambda r: r.county == "370883")


# ---- versions -----------------------------------------------------------------------------------

def test_a_record_version_is_the_hash_of_its_canonical_json(store):
    for f in STATION_FEATURES:
        if "county_code" not in f["properties"]:
            continue  # the stored record has its derived county: not the fixture's JSON
        canonical = json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert store.record_version(f["properties"]["id"]) == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    with pytest.raises(NotFound, match="JN-RS-0099"):
        store.record_version("JN-RS-0099")


def test_a_record_version_changes_with_its_record_only(store, other):
    v1, v2 = store.record_version("JN-RS-0001"), store.record_version("JN-RS-0002")
    assert other.record_version("JN-RS-0001") == v1  # the same for every store object
    other.update("JN-RS-0001", {"name": "别处改的"})
    assert store.record_version("JN-RS-0001") != v1
    assert store.record_version("JN-RS-0002") == v2


def test_the_store_version_changes_with_each_write_and_only_then(store, other):
    first = store.version
    assert store.version == first == other.version
    other.update("JN-RS-0001", {"name": "别处改的"})
    second = store.version
    assert second != first and other.version == second
    store.update("JN-RS-0001", {"name": "别处改的"})  # changes nothing: writes nothing
    assert store.version == second


def test_writes_with_the_current_version_succeed(store):
    version = store.record_version("JN-RS-0003")
    updated = store.update("JN-RS-0003", {"name": "按版本改"}, who="alice", expected_version=version)
    assert updated.name == "按版本改" and store.get("JN-RS-0003") == updated
    assert store.record_version("JN-RS-0003") != version
    removed = store.delete("JN-RS-0004", expected_version=store.record_version("JN-RS-0004"))
    assert removed.id == "JN-RS-0004"
    with pytest.raises(NotFound):
        store.get("JN-RS-0004")


def test_a_stale_record_version_is_refused_and_nothing_is_written(store, other, snapshot):
    seen = store.record_version("JN-RS-0001")
    other.update("JN-RS-0001", {"name": "另一位编辑先保存"}, who="bob")
    before = snapshot(store)
    with pytest.raises(StaleVersion) as excinfo:
        store.update("JN-RS-0001", {"status": "closed"}, who="alice", expected_version=seen)
    error = excinfo.value
    assert isinstance(error, Conflict) and error.http_status == 412
    assert error.record_id == "JN-RS-0001" and error.expected == seen and "JN-RS-0001" in str(error)
    assert error.current.name == "另一位编辑先保存"  # what the other editor saved, to show both
    assert error.current_version == store.record_version("JN-RS-0001")
    with pytest.raises(StaleVersion):
        store.delete("JN-RS-0001", who="alice", expected_version=seen)
    assert snapshot(store) == before


def test_add_and_save_all_check_the_store_version(store, other, snapshot):
    seen = store.version
    stations = store.all()
    other.update("JN-RS-0002", {"name": "并发修改"})
    before = snapshot(store)
    with pytest.raises(StaleVersion):
        store.add(feature(IN_370812), expected_store_version=seen)
    with pytest.raises(StaleVersion):
        store.save_all(stations, expected_store_version=seen)
    assert snapshot(store) == before
    added = store.add(feature(IN_370812), expected_store_version=store.version)
    assert store.get(added.id).name == "新驿站"
    store.save_all(store.all(), expected_store_version=store.version)
    assert store.get("JN-RS-0002").name == "并发修改"


# ---- adding -------------------------------------------------------------------------------------

def test_add_assigns_the_next_id_of_the_kind_and_derives_the_county(store):
    added = store.add(feature(IN_370812), who="alice")
    assert added.id == "JN-RS-0011" and added.county_code == "370812"
    assert store.get("JN-RS-0011") == added
    palace = feature([116.98, 35.2], kind="cultural_palace", name="新文化宫")
    assert store.add(palace).id == "JN-CP-0003"
    assert store.add(feature([116.9, 35.5], kind="convalescence_base", name="新基地", id="")).id == "JN-CB-0002"
    assert store.add(Station(id="JN-RS-0100", name="给定编号", kind="rest_station", lon=116.6, lat=35.4)).id \
        == "JN-RS-0100"
    assert store.add(feature(IN_370812)).id == "JN-RS-0101"


def test_add_to_an_empty_store_starts_at_number_one(make_backend):
    store = make_backend([]).open()
    assert store.all() == [] and store.query().total == 0
    assert store.add(feature(IN_370812)).id == "JN-RS-0001"


def test_add_leaves_the_callers_feature_unchanged(store):
    given = feature(IN_370812)
    copy = json.loads(json.dumps(given))
    store.add(given)
    assert given == copy


def test_add_with_an_id_in_use_is_a_conflict(store, snapshot):
    before = snapshot(store)
    with pytest.raises(Conflict, match="JN-RS-0001") as excinfo:
        store.add(feature([116.6, 35.4], id="JN-RS-0001"))
    assert excinfo.value.http_status == 409
    assert snapshot(store) == before


def test_add_of_an_invalid_record_lists_every_problem_and_writes_nothing(store, snapshot):
    before = snapshot(store)
    bad = feature(IN_370812, id="JN-RS-0200", kind="spa", status="maybe", amenities=["jacuzzi"], phone="call me")
    with pytest.raises(InvalidRecord) as excinfo:
        store.add(bad)
    assert {("JN-RS-0200", f) for f in ("kind", "status", "amenities", "phone")} <= fields_of(excinfo)
    assert isinstance(excinfo.value, ValidationError) and excinfo.value.http_status == 422
    assert snapshot(store) == before


def test_a_point_outside_every_county_is_refused(store):
    with pytest.raises(InvalidRecord, match="inside one of the counties") as excinfo:
        store.add(feature([121.47, 31.23], id="JN-RS-0100"))  # Shanghai
    assert fields_of(excinfo) == {("JN-RS-0100", "geometry.coordinates")}


def test_swapped_coordinates_are_named(store):
    with pytest.raises(InvalidRecord, match="swapped") as excinfo:
        store.add(feature([35.45, 116.85], id="JN-RS-0100"))  # (lat, lon): latitude 116 is impossible
    assert "JN-RS-0100" in str(excinfo.value)
    with pytest.raises(InvalidRecord) as excinfo:
        store.add(feature([35.0, 80.0], id="JN-RS-0101"))  # outside everything either way
    assert "swapped" not in str(excinfo.value)


# ---- updating -----------------------------------------------------------------------------------

def test_update_changes_the_given_fields_and_none_removes_one(store):
    updated = store.update("JN-RS-0002", {"name": "改名", "amenities": ["toilet"], "opening_hours": None})
    assert (updated.name, updated.amenities, updated.opening_hours) == ("改名", ("toilet",), None)
    assert store.get("JN-RS-0002") == updated
    assert updated.phone == "0537-2345678" and updated.county_code == "370811"  # the rest is kept


def test_update_of_an_unknown_station_is_not_found(store):
    with pytest.raises(NotFound, match="JN-RS-0404"):
        store.update("JN-RS-0404", {"name": "x"})


def test_update_cannot_change_the_id(store, snapshot):
    before = snapshot(store)
    with pytest.raises(InvalidRecord, match="cannot change"):
        store.update("JN-RS-0001", {"id": "JN-RS-0999"})
    assert snapshot(store) == before


def test_an_update_that_changes_nothing_writes_nothing(store, snapshot):
    before = snapshot(store)
    same = store.update("JN-RS-0001", {"name": store.get("JN-RS-0001").name}, who="alice")
    assert same == store.get("JN-RS-0001")
    assert snapshot(store) == before


def test_moving_by_lon_lat_derives_the_county_again(store):
    moved = store.update("JN-RS-0001", {"lon": IN_370812[0], "lat": IN_370812[1]})
    assert (moved.lon, moved.lat, moved.county_code) == (*IN_370812, "370812")


def test_moving_by_geometry_derives_the_county_again(store):
    moved = store.update("JN-RS-0001", {"geometry": {"type": "Point", "coordinates": IN_370812}})
    assert (moved.lon, moved.lat, moved.county_code) == (*IN_370812, "370812")
    assert store.get("JN-RS-0001").county_code == "370812"


def test_a_county_code_given_with_a_move_is_checked_against_the_new_position(store):
    there = {"type": "Point", "coordinates": IN_370812}
    with pytest.raises(InvalidRecord) as excinfo:
        store.update("JN-RS-0001", {"geometry": there, "county_code": "370811"})
    assert fields_of(excinfo) == {("JN-RS-0001", "county_code")}
    assert store.update("JN-RS-0001", {"geometry": there, "county_code": "370812"}).county_code == "370812"
    with pytest.raises(InvalidRecord):
        store.update("JN-RS-0001", {"county_code": "370883"})  # without a move, too


def test_a_position_given_twice_is_refused(store):
    with pytest.raises(InvalidRecord, match="not both"):
        store.update("JN-RS-0001", {"geometry": {"type": "Point", "coordinates": IN_370812}, "lon": 116.6})


def test_positions_are_stored_rounded_to_seven_decimals(store, other):
    moved = store.update("JN-RS-0003", {"lon": 116.58712345678, "lat": 35.41398765432})
    assert (moved.lon, moved.lat) == (116.5871235, 35.4139877) == (other.get("JN-RS-0003").lon,
                                                                    other.get("JN-RS-0003").lat)


@pytest.mark.parametrize("props, field", [
    ({"kind": "spa"}, "kind"),
    ({"amenities": ["drinking_water", "jacuzzi"]}, "amenities"),
    ({"status": "maybe"}, "status"),
    ({"opening_hours": "Mo-Fx 08:00-18:00"}, "opening_hours"),
    ({"palace_class": 2}, "palace_class"),  # only for cultural palaces
    ({"beds": -1}, "beds"),
    ({"floor_area_m2": 0}, "floor_area_m2"),
    ({"opened_on": "2024-02-30"}, "opened_on"),
    ({"last_verified_on": "yesterday"}, "last_verified_on"),
    ({"phone": "call me"}, "phone"),
    ({"sample": "yes"}, "sample"),
    ({"name": "  "}, "name"),
    ({"county_code": "370812"}, "county_code"),  # the point is in 370811
    ({"colour": "red"}, "colour"),
    ({"geometry": {"type": "Point", "coordinates": [200, 35]}}, "geometry.coordinates[0] (longitude)"),
])
def test_every_validation_error_names_the_record_and_the_field(store, props, field, snapshot):
    before = snapshot(store)
    with pytest.raises(InvalidRecord) as excinfo:
        store.update("JN-RS-0001", props)
    assert ("JN-RS-0001", field) in fields_of(excinfo)
    assert "JN-RS-0001" in str(excinfo.value) and field in str(excinfo.value)
    assert snapshot(store) == before


def test_every_problem_of_an_update_is_reported_at_once(store):
    with pytest.raises(InvalidRecord) as excinfo:
        store.update("JN-RS-0001", {"kind": "spa", "status": "maybe", "amenities": ["jacuzzi"]})
    assert {"kind", "status", "amenities"} <= {f for _, f in fields_of(excinfo)}


# ---- deleting, replacing, other store objects -----------------------------------------------------

def test_delete_removes_the_station_and_gives_it_back(store):
    removed = store.delete("JN-RS-0009", who="carol")
    assert removed.id == "JN-RS-0009" and removed.status == "closed"
    assert "JN-RS-0009" not in [s.id for s in store.all()]
    with pytest.raises(NotFound):
        store.delete("JN-RS-0009")


def test_save_all_replaces_every_station_validated_first(store, snapshot):
    kept = [s for s in store.all() if s.kind != "rest_station"]
    before = snapshot(store)
    with pytest.raises(InvalidRecord):
        store.save_all(kept + [Station(id="JN-RS-0001", name="外地", kind="rest_station", lon=121.47, lat=31.23)])
    assert snapshot(store) == before
    store.save_all(kept, who="importer")
    assert [s.id for s in store.all()] == sorted(s.id for s in kept)


def test_a_change_through_one_store_object_is_seen_by_another(store, other):
    assert other.get("JN-RS-0001").name == "古槐路驿站"
    store.update("JN-RS-0001", {"name": "别处改的"})
    store.add(feature(IN_370812, id="JN-RS-0100"))
    store.delete("JN-RS-0002")
    assert other.get("JN-RS-0001").name == "别处改的"
    assert [s.id for s in other.query(county="370812")][-1] == "JN-RS-0100"
    with pytest.raises(NotFound):
        other.get("JN-RS-0002")


def test_store_errors_carry_their_http_status():
    classes = (ValidationError, InvalidRecord, NotFound, Conflict, StaleVersion, StoredDataError, StoreUnavailable)
    assert [cls("x").http_status for cls in classes] == [400, 422, 404, 409, 412, 500, 503]
    assert all(issubclass(cls, YizhanError) for cls in (InvalidRecord, StoredDataError, StoreUnavailable))
