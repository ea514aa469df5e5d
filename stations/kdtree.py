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

from .lean_import import import_alone

cKDTree = import_alone("scipy.spatial", "_ckdtree").cKDTree
