"""Write stations/schema.json from stations.validate.build_schema; --check exits 1 if it is stale."""
import argparse
import sys

from stations.validate import SCHEMA_PATH, schema_text, write_schema


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the file differs")
    args = parser.parse_args(argv)
    if args.check:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else None
        if current != schema_text():
            print(f"{SCHEMA_PATH} is stale: run python scripts/write_schema.py", file=sys.stderr)
            return 1
        print(f"{SCHEMA_PATH} is up to date")
        return 0
    print(f"wrote {write_schema()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
