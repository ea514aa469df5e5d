"""A large counties file's outlines are kept beside it (WKB) and read from there while the file stays the same."""
from __future__ import annotations

import json
import logging

import pytest
import shapely

from conftest import COUNTY_BOXES, counties_collection
from stations import counties as counties_module
from stations import countycache
from stations.counties import Counties


@pytest.fixture
def large(monkeypatch, tmp_path):
    """The conftest counties as a file that counts as large (the threshold lowered), with detailed rings."""
    monkeypatch.setattr(countycache, "MIN_BYTES", 0)
    data = counties_collection()
    for feature in data["features"]:  # the boxes with a vertex every 0.001° along the edges
        (minlon, minlat), _, (maxlon, maxlat) = feature["geometry"]["coordinates"][0][:3]
        n = 300
        ring = ([[minlon + (maxlon - minlon) * i / n, minlat] for i in range(n)]
                + [[maxlon, minlat + (maxlat - minlat) * i / n] for i in range(n)]
                + [[maxlon - (maxlon - minlon) * i / n, maxlat] for i in range(n)]
                + [[minlon, maxlat - (maxlat - minlat) * i / n] for i in range(n)])
        feature["geometry"]["coordinates"] = [ring + [ring[0]]]
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _no_parsing(monkeypatch):
    def refuse(path, raw):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(counties_module, "_read_features", refuse)


def test_the_second_read_comes_from_the_cache_with_the_same_outlines_and_names(large, monkeypatch):
    first = Counties.load(large)
    assert (large.parent / ".counties.geojson.wkb").is_file()
    _no_parsing(monkeypatch)
    again = Counties.load(large)
    assert again.codes == sorted(COUNTY_BOXES) == first.codes
    for code, (name, (minlon, minlat, maxlon, maxlat), population) in COUNTY_BOXES.items():
        assert again.name(code) == name and again.population(code) == population
        assert shapely.equals_exact(again.geometry(code), first.geometry(code), tolerance=0)
        assert shapely.get_num_coordinates(again.geometry(code)) == 1201
        assert again.locate((minlon + maxlon) / 2, (minlat + maxlat) / 2) == code
    assert again.locate(100.0, 20.0) is None


def test_a_changed_file_is_read_again(large, monkeypatch):
    Counties.load(large)
    text = large.read_text(encoding="utf-8")
    large.write_text(text.replace("任城区", "任城县"), encoding="utf-8")  # the same size
    assert Counties.load(large).name("370811") == "任城县"
    _no_parsing(monkeypatch)  # ... and the cache now holds the new file's
    assert Counties.load(large).name("370811") == "任城县"


def test_a_damaged_cache_is_ignored_and_replaced(large, monkeypatch, caplog):
    Counties.load(large)
    cache = large.parent / ".counties.geojson.wkb"
    blob = bytearray(cache.read_bytes())
    blob[-10] ^= 0xFF  # a byte of the last outline
    cache.write_bytes(bytes(blob))
    with caplog.at_level(logging.WARNING, logger="stations.countycache"):
        counties = Counties.load(large)
    assert "ignoring the counties cache" in caplog.text and "checksum" in caplog.text
    assert shapely.get_num_coordinates(counties.geometry("370883")) == 1201
    cache.write_bytes(cache.read_bytes()[:100])  # cut short
    assert Counties.load(large).name("370883") == "邹城市"
    _no_parsing(monkeypatch)
    assert Counties.load(large).name("370883") == "邹城市"  # written again whole


def test_a_cache_that_cannot_be_written_only_logs(large, monkeypatch, caplog):
    from stations.store import files

    def fail(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "atomic_write_bytes", fail)
    with caplog.at_level(logging.WARNING, logger="stations.countycache"):
        counties = Counties.load(large)
    assert counties.name("370812") == "兖州区"
    assert "could not be written" in caplog.text
    assert not (large.parent / ".counties.geojson.wkb").exists()


def test_a_small_file_gets_no_cache(counties_path):
    assert counties_path.stat().st_size < countycache.MIN_BYTES
    assert Counties.load(counties_path).name("370811") == "任城区"
    assert [p.name for p in counties_path.parent.iterdir() if p.name.startswith(".")] == []
