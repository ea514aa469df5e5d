"""One module of a package without the package's ``__init__``: for workers that need a small part of a
large package (scipy's k-d tree, the holidays package's China).

The module is imported under a bare stand-in for its package (the package's path only, no
``__init__``), which is taken out again, so that the package stays importable in full afterwards (its
``__init__`` then finds the module already imported). If the package is imported already, it is used.
Call at import time (single-threaded: the master's preload, or a test's first import).
"""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from types import ModuleType


def import_alone(package: str, module: str) -> ModuleType:
    """``package.module`` (e.g. ``"scipy.spatial"``, ``"_ckdtree"``), without running ``package``'s ``__init__``
    unless it ran already. The package's parent (``scipy``) is imported normally to find its folder."""
    name = f"{package}.{module}"
    if package not in sys.modules:
        parent, _, leaf = package.rpartition(".")
        folder = Path(importlib.import_module(parent).__file__).parent / leaf
        stand_in = types.ModuleType(package)
        stand_in.__path__ = [str(folder)]
        sys.modules[package] = stand_in
        try:
            importlib.import_module(name)
        finally:
            if sys.modules.get(package) is stand_in:
                del sys.modules[package]
    return importlib.import_module(name)


__all__ = ["import_alone"]
