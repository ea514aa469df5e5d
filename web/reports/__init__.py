"""Workers' reports: a worker tells the staff that a station is closed, out of water, moved, dirty, or else.

- ``routes``: filing one, the page ``/stations/<id>/report`` and ``POST /api/stations/<id>/reports``
  (no account; blueprint ``reports``).
- ``forms``: the form's, the body's and the staff's request models (kind, note ≤ 500, position).
- ``limits``: per client (``REPORT_RATE_LIMIT``) and per station (``REPORT_STATION_RATE_LIMIT``).
- ``records``: the ``reports`` table (``web.db.models.Report``): file, list, handle, count.
- ``public``: the one thing the public sees, "reported on <date>" (station page, popup, list).

The staff's side is ``web.manage.reports`` (``/manage/reports``: accept, dismiss); the counts per
county are on ``/planning``. What a report suggests, and its distance, are ``stations.worker_reports``'s.
"""
from .routes import bp

__all__ = ["bp"]
