"""folium, imported without pandas: ~30 MB less in every worker.

folium (and branca) import pandas only to recognise DataFrames (``try: import pandas ... except
ImportError``), which this site never gives them: it passes folium numbers and settings only (see
``web.maps``). Imported while ``import pandas`` fails, they do without it, and a worker serving the
map does not hold pandas' ~300 modules. pandas stays importable afterwards for the code that needs it
(the GeoPackage and Shapefile exports through geopandas). If pandas is imported already (a process
that exported first), folium is simply imported as usual.
"""
from __future__ import annotations

import sys


def _import_folium():
    if "folium" not in sys.modules and "pandas" not in sys.modules:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # `import pandas` raises ImportError
        try:
            import folium
            import folium.plugins  # noqa: F401
        finally:
            if "pandas" in sys.modules and sys.modules["pandas"] is None:
                del sys.modules["pandas"]
    import folium
    import folium.plugins  # noqa: F401
    return folium


folium = _import_folium()
