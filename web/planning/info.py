"""What the planner's page and files say about themselves: the data, the settings, the water mask.

:func:`report_info` builds the ``stations.report.ReportInfo`` every export carries (made when, from which
store version, data date and station count, with which settings, sample data or not); :func:`water_key`
names the water mask in use (``WATER_MASK_PATH``) for the cache keys and ETags: another mask file,
another analysis; :func:`kinds_options` the page's choice of the kinds that count towards coverage.
"""
from __future__ import annotations

import os
from typing import Any

from flask import current_app

from stations import report
from stations.coverage import COVERING_KINDS, WATER_PRESET
from stations.model import KINDS

from ..state import state
from .parameters import CoverageQuery

#: the page's choices of covering kinds (any other set works through the URL, and is then shown too)
KINDS_PRESETS: tuple[tuple[str, ...], ...] = (
    COVERING_KINDS, (WATER_PRESET,), ("rest_station", "cultural_palace"), tuple(KINDS),
)


def water_key() -> tuple | None:
    """(path, mtime_ns, size) of the water mask in use, or None without one."""
    path = current_app.config.get("WATER_MASK_PATH")
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:  # removed after the start: the analysis will say so
        return (path, None, None)
    return (path, st.st_mtime_ns, st.st_size)


def report_info(p: CoverageQuery, data: dict[str, Any], facts: dict[str, Any] | None = None) -> report.ReportInfo:
    """The metadata of a report of ``data`` asked with ``p``, from the site's store as it is now.

    ``facts`` (``report.store_facts`` with the ``version`` they are of) come with the analysis's answers
    (``web.background.run_coverage``): when they are of the current version, the stations are not read
    here (a national store's records take seconds to make)."""
    st = state()
    version = st.store.version
    if facts is None or facts.get("version") != version:
        facts = st.cached(("report.facts",), lambda: report.store_facts(st.store.all()))
    county_name = st.counties.name(p.county) if p.county else None
    return report.ReportInfo.of(data, None, store_version=version, new_sites=p.new_sites,
                                county=p.county, county_name=county_name, facts=facts)


def kinds_options(current: tuple[str, ...], lang: str) -> list[dict[str, Any]]:
    """The page's select of covering kinds: ``value`` (the ``kinds=`` text), ``label``, ``selected``."""
    presets = list(KINDS_PRESETS) + ([current] if current not in KINDS_PRESETS else [])
    return [{"value": ",".join(kinds), "label": report.kinds_text(kinds, lang), "selected": kinds == current}
            for kinds in presets]
