"""The planners' view, room by room.

- ``routes``: the blueprint: ``/planning``, its downloads, ``/api/coverage`` and ``/api/coverage/gaps``,
  the cached analysis within its time budget;
- ``parameters``: the request model of the analysis (in the request layer, ``web.requests``);
- ``charts``: share classes, the bar chart's geometry, the static SVG map, the table and key figures;
- ``map``: the interactive map's folium skeleton and its layers as JSON for ``js/planning-map.js``;
- ``schemas``: the JSON Schema of the API answers, for the OpenAPI document.

Its strings are in the site's one catalogue (``stations/locale``, ``web.i18n.translate``).
"""
from .routes import bp

__all__ = ["bp"]
