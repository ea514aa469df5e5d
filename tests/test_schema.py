"""The published JSON Schema agrees with the validator and the vocabulary."""
import json
from pathlib import Path

import jsonschema
import pytest

from stations.model import AMENITIES, KINDS, STATUSES
from stations.validate import build_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "stations" / "schema.json").read_text(encoding="utf-8"))


def test_published_schema_is_generated_from_the_vocabulary():
    assert SCHEMA == build_schema(), "run: python -c 'from stations.validate import build_schema' ... (schema.json is stale)"
    props = SCHEMA["properties"]["properties"]["properties"]
    assert props["kind"]["enum"] == list(KINDS)
    assert props["status"]["enum"] == list(STATUSES)
    assert props["amenities"]["items"]["enum"] == list(AMENITIES)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_bundled_stations_satisfy_schema():
    data = json.loads((ROOT / "geodata" / "stations.geojson").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for feature in data["features"]:
        errors = list(validator.iter_errors(feature))
        assert not errors, (feature["properties"]["id"], [e.message for e in errors])


@pytest.mark.parametrize("path, value", [
    (("properties", "kind"), "spa"),
    (("properties", "status"), "maybe"),
    (("properties", "amenities"), ["jacuzzi"]),
    (("properties", "beds"), -1),
    (("properties", "colour"), "red"),
    (("geometry", "coordinates"), [200, 35]),
])
def test_schema_rejects_what_the_validator_rejects(path, value):
    data = json.loads((ROOT / "geodata" / "stations.geojson").read_text(encoding="utf-8"))
    feature = data["features"][0]
    feature[path[0]][path[1]] = value
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(feature))
    from stations.validate import check_feature_shape, check_properties
    problems, _ = check_feature_shape(feature, "x")
    problems += check_properties(feature["properties"], "x")
    assert problems
