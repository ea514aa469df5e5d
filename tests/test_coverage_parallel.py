"""``analyse(..., workers=N)``: the counties shared out over forked processes give the same figures."""
from __future__ import annotations

import numpy as np

from stations.counties import Counties
from stations.coverage import PARALLEL_MIN_COUNTIES, analyse
from stations.model import Station


def grid_counties(nx: int, ny: int) -> Counties:
    features = []
    for i in range(nx):
        for j in range(ny):
            x, y = 116.0 + i * 0.1, 35.0 + j * 0.1
            ring = [[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]
            features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                             "properties": {"adcode": f"{370000 + i * ny + j:06d}", "name": f"县{i}-{j}"}})
    return Counties.from_geojson({"type": "FeatureCollection", "features": features})


def test_shared_out_over_processes_the_figures_are_the_same():
    counties = grid_counties(9, 8)
    assert len(counties) >= PARALLEL_MIN_COUNTIES
    rng = np.random.default_rng(5)
    stations = [Station(id=f"JN-RS-{i:04d}", name="站", kind="rest_station", lon=float(x), lat=float(y))
                for i, (x, y) in enumerate(zip(rng.uniform(116.0, 116.9, 400), rng.uniform(35.0, 35.8, 400)))]
    one = analyse(counties, stations, radius_m=2000)
    two = analyse(counties, stations, radius_m=2000, workers=2)
    assert two.to_dict() == one.to_dict()
    assert two.gaps_geojson() == one.gaps_geojson()
    steps = []
    analyse(counties, stations, radius_m=2000, workers=2, progress=lambda done, total, label: steps.append(done))
    assert steps == list(range(1, len(counties) + 1))
