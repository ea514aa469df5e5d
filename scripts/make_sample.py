"""Write geodata/stations.geojson: the deterministic sample (same as `yizhan sample`)."""
import sys

from stations.cli import main

if __name__ == "__main__":
    sys.exit(main(["sample", *sys.argv[1:]]))
