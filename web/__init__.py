"""The Flask site: ``create_app`` is the only way in."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

GEODATA = Path(__file__).resolve().parent.parent / "geodata"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. Config layers: defaults < ``YIZHAN_*`` environment < ``config``."""
    app = Flask(__name__)
    app.config.from_mapping(
        STATIONS_PATH=str(GEODATA / "stations.geojson"),
        COUNTIES_PATH=str(GEODATA / "counties.geojson"),
        BASEMAP="osm",            # osm | tianditu | amap | none
        TIANDITU_KEY="",
        TILE_URL=None,            # overrides the basemap's tile URL (tests serve tiles locally)
        CITY_NAME="济宁市",
        DEFAULT_LANG="zh",
        MAP_INLINE_MAX=3000,      # above this many stations the map loads markers per visible area
        MAP_REMOTE_MIN_ZOOM=11,   # ... and only from this zoom level on
    )
    app.config.from_prefixed_env("YIZHAN")
    if config:
        app.config.update(config)

    from .state import init_state
    init_state(app)

    from . import api, background, hosts, limits, pages, planning, errors, security
    hosts.register(app)  # first request hook: no other code sees an untrusted Host
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(planning.bp)
    errors.register(app)
    security.register(app)
    limits.register(app)  # after the blueprints: its rate limits wrap the planner's views
    background.register(app)
    return app
