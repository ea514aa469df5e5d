"""``yizhan export --format`` for GIS: GeoJSON, KML, GeoPackage and zipped Shapefile, with the metadata
inside (DATA_ATTRIBUTION, DATA_LICENSE; the fixture stations are sample data). CSV and XLSX, the import's
round-trip table, are tested with the import (tests/test_cli_import.py)."""
from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from conftest import STATION_FEATURES
from yizhan.cli import main


@pytest.fixture
def export(tmp_path, stations_path, counties_path):
    env = {"YIZHAN_INSTANCE_PATH": str(tmp_path / "instance"), "YIZHAN_DATA_LICENSE": "ODbL-1.0",
           "YIZHAN_DATA_ATTRIBUTION": "济宁市总工会"}

    def run(fmt: str, out):
        result = CliRunner().invoke(main, ["export", "--format", fmt, str(out), "--stations", str(stations_path),
                                           "--counties", str(counties_path)], env=env)
        assert result.exit_code == 0, result.output
        assert f"wrote {len(STATION_FEATURES)} stations" in result.output
        return out
    return run


def _ids_and_names(frame, name="name", ident="id"):
    return sorted((r[ident], r[name]) for _, r in frame.iterrows())


EXPECTED = sorted((f["properties"]["id"], f["properties"]["name"]) for f in STATION_FEATURES)


def test_export_geojson_with_metadata(export, tmp_path):
    doc = json.loads(export("geojson", tmp_path / "驿站.geojson").read_text("utf-8"))
    assert sorted((f["id"], f["properties"]["name"]) for f in doc["features"]) == EXPECTED
    assert doc["license"] == "ODbL-1.0" and doc["attribution"] == "济宁市总工会" and doc["sample"] is True


def test_export_gpkg_shp_kml_read_back_with_gdal(export, tmp_path):
    import geopandas as gpd
    import pyogrio

    gpkg = export("gpkg", tmp_path / "驿站.gpkg")
    assert _ids_and_names(gpd.read_file(gpkg)) == EXPECTED
    assert pyogrio.read_info(gpkg)["layer_metadata"]["license"] == "ODbL-1.0"
    shp = export("shp", tmp_path / "驿站.zip")
    assert _ids_and_names(gpd.read_file(f"zip://{shp}!stations.shp")) == EXPECTED
    with zipfile.ZipFile(shp) as archive:
        assert "ODbL-1.0" in archive.read("README.txt").decode("utf-8")
    kml = export("kml", tmp_path / "驿站.kml")
    assert _ids_and_names(pyogrio.read_dataframe(kml), name="Name") == EXPECTED
    assert "ODbL-1.0" in kml.read_text("utf-8")
