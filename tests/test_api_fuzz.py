"""A schema-driven fuzzer: schemathesis generates requests from the OpenAPI document the app serves
and sends them through the Flask app (WSGI, no server).

Every answer must be one the document describes: no 5xx, a documented status code, content type,
headers and body schema. Bounded: a fixed number of examples per operation, derandomized (the same
cases every run), no deadline. The coverage endpoints run with a coarse radius step and few new sites
so that the analyses they start stay short; the analyses they do start answer 200, 503 (time budget)
or 429 (rate limit), all documented.

The write routes (``POST``/``PATCH``/``DELETE /api/stations``) are fuzzed without credentials (or
with the made-up ones the document's security schemes lead to): each answers 401, documented,
before its body is read, so the fuzzer never changes the data. The accounts database is a migrated
SQLite file in the temporary folder (a made-up bearer token is looked up there); the
authenticated writes are ``tests/test_write_api.py``'s.

Not checked here, on purpose: that every value the schema allows is accepted (a bbox with its minimum
above its maximum, or ``at`` together with ``open_now``, passes the schema and is refused), and that
every value it does not allow is refused (duplicates in a list parameter are dropped, yes/no words
are taken in any case).
"""
from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import STATION_FEATURES, counties_collection  # noqa: E402

#: 5xx answers the protocols we speak ask for, by operation: oEmbed answers 501 to a format it does not
#: serve (oEmbed 1.0, section 2.3.4.3); documented in the OpenAPI document, and checked there by
#: ``status_code_conformance``
PROTOCOL_5XX = {("GET", "/oembed"): {501}}


def no_unexpected_server_error(ctx, response, case):
    """``not_a_server_error``, except for the 5xx a protocol prescribes (``PROTOCOL_5XX``)."""
    if response.status_code in PROTOCOL_5XX.get((case.method.upper(), case.path), ()):
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_unexpected_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
MAX_EXAMPLES = 40


def _fuzz_app():
    """The app over a temporary copy of the test data (built at import: the cases are generated from its
    document when the tests are collected)."""
    from web import create_app
    from web.db import migrate

    folder = Path(tempfile.mkdtemp(prefix="yizhan-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)
    stations = folder / "stations.geojson"
    counties = folder / "counties.geojson"
    stations.write_text(json.dumps({"type": "FeatureCollection", "features": STATION_FEATURES}, ensure_ascii=False),
                        encoding="utf-8")
    counties.write_text(json.dumps(counties_collection(), ensure_ascii=False), encoding="utf-8")
    migrate.upgrade(f"sqlite:///{folder / 'yizhan.sqlite3'}")  # the default DATABASE_URL of this instance
    return create_app({"STATIONS_PATH": str(stations), "COUNTIES_PATH": str(counties), "TESTING": True,
                       "INSTANCE_PATH": str(folder),
                       "COVERAGE_EXECUTOR": "thread", "RADIUS_STEP_M": 5000, "COVERAGE_MAX_NEW_SITES": 2,
                       "COVERAGE_TIME_BUDGET_S": 5, "GEOCODER": "none"})  # suggested sites: no addresses asked


APP = _fuzz_app()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case):
    # identity: the WSGI transport hands the body over as sent, and the planner's JSON is gzipped on request
    case.call_and_validate(checks=CHECKS, headers={"Accept-Encoding": "identity"})
