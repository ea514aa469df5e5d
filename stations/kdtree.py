"""scipy's ``cKDTree`` without the rest of ``scipy.spatial``: ~18 MB less in every worker.

``scipy.spatial``'s ``__init__`` imports Qhull, the distance functions, rotations and with them
``scipy.linalg``; the nearest index and the planner's neighbour searches need only the k-d tree
(``scipy.spatial._ckdtree``, the very class ``scipy.spatial.cKDTree`` names). It is imported under a
bare stand-in for the package (its path only, no ``__init__``), which is taken out again, so that
``scipy.spatial`` stays importable in full afterwards (its ``__init__`` then finds the k-d tree's
module already imported): the planner imports it for ``Voronoi`` when it first needs it. This runs
at import (the master's preload, single-threaded); if ``scipy.spatial`` is imported already, its
``cKDTree`` is used.
"""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path


def _import_ckdtree() -> type:
    if "scipy.spatial" not in sys.modules:
        import scipy

        stand_in = types.ModuleType("scipy.spatial")
        stand_in.__path__ = [str(Path(scipy.__file__).parent / "spatial")]
        sys.modules["scipy.spatial"] = stand_in
        try:
            importlib.import_module("scipy.spatial._ckdtree")
        finally:
            if sys.modules.get("scipy.spatial") is stand_in:
                del sys.modules["scipy.spatial"]
    return sys.modules["scipy.spatial._ckdtree"].cKDTree


cKDTree = _import_ckdtree()

__all__ = ["cKDTree"]
