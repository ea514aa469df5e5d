"""Write geodata/stations.geojson, the bundled sample (as `yizhan sample --stations geodata/stations.geojson`)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from yizhan.cli import main  # noqa: E402

BUNDLED = Path(__file__).resolve().parent.parent / "geodata" / "stations.geojson"

if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(["sample", *args] if "--stations" in args else ["sample", "--stations", str(BUNDLED), *args]))
