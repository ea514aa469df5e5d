"""Print the README's configuration table, generated from the settings table (``web.settings.SETTINGS``).

    python scripts/settings_table.py          # paste into README.md under "## Configuration"

``tests/test_settings.py`` checks that the README holds exactly this table.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from web.settings import markdown_table  # noqa: E402


def main() -> None:
    sys.stdout.write(markdown_table())


if __name__ == "__main__":
    main()
