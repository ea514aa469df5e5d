"""Comments and documents point only at things inside the repository (or public addresses)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A path on one machine (a home, a work folder, an installed package) means nothing in a fresh clone.
OUTSIDE = re.compile(r"(?<![\w.])/(?:work|root|home)/|site-packages|project notes")
TEXT_SUFFIXES = {".py", ".md", ".html", ".js", ".css", ".cfg", ".toml", ".txt"}


def source_files():
    for top in ("stations", "web", "scripts", "tests", "docs", "geodata", "yizhan"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in TEXT_SUFFIXES and "vendor" not in path.parts and path.name != Path(__file__).name:
                yield path
    for name in ("README.md", "Makefile", "setup.cfg", "pyproject.toml"):
        if (ROOT / name).exists():
            yield ROOT / name


def test_no_comment_or_document_points_outside_the_repository():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in source_files()
             for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
             if OUTSIDE.search(line)]
    assert found == []
