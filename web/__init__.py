"""The Flask site: ``create_app`` is the only way in."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; each setting (``web.settings``) from ``config``, else ``YIZHAN_*`` variables, else its default.

    Every setting is parsed and checked here, once; a bad value, or a data file that is missing or
    unreadable, stops the start with a :class:`~web.settings.SettingError` naming it. The default
    station store is created in the instance folder from the bundled sample (``web.datafiles``).
    """
    from . import datafiles, settings

    resolved = settings.resolve(config)
    datafiles.prepare(resolved)
    app = Flask(__name__, instance_path=resolved["INSTANCE_PATH"])
    app.config.update(resolved.extra)
    app.config.update(resolved.values)

    from .state import init_state
    init_state(app)

    from . import api, background, embeds, hosts, i18n, limits, pages, planning, errors, security
    from . import auth, db, manage, signin, write_api
    hosts.register(app)  # first request hook: no other code sees an untrusted Host; ProxyFix (PROXY_COUNT)
    i18n.register(app)  # Flask-Babel: the language choice and the catalogue (stations/locale)
    db.init_app(app)  # the accounts database (DATABASE_URL); connects on first use
    auth.register(app)  # secret key, session cookie, CSRF protection, Flask-Login
    app.register_blueprint(api.bp)
    from . import lookups, markers
    app.register_blueprint(lookups.bp)  # /api/places, /api/route: the geocoder and the walking router
    app.register_blueprint(markers.bp)  # /api/map/markers: a large store's map, area by area
    app.register_blueprint(write_api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(embeds.bp)  # /embed/builder, /oembed (the embed /embed itself is a map page)
    from . import offline
    app.register_blueprint(offline.bp)  # the installable app: /manifest.webmanifest, /sw.js, /offline/stations.json
    app.register_blueprint(planning.bp)
    app.register_blueprint(signin.bp)
    app.register_blueprint(manage.bp)
    from .manage import editing_api
    app.register_blueprint(editing_api.bp)  # the station form's lookups: /api/hours/preview, /api/counties/locate
    from . import reports
    app.register_blueprint(reports.bp)  # workers' reports: /stations/<id>/report, POST /api/stations/<id>/reports
    from . import ogc
    app.register_blueprint(ogc.bp)  # OGC API - Features under /ogc
    errors.register(app)
    security.register(app)
    limits.register(app)  # after the blueprints: its rate limits wrap the planner's views
    background.register(app)
    return app
