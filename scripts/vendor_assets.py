#!/usr/bin/env python3
"""Copy the browser libraries installed by ``npm ci`` into ``web/static/vendor/``.

Run by ``make assets`` after ``npm ci --ignore-scripts`` (versions pinned in package-lock.json).
The copies are git-ignored: third-party JS/CSS reach the site only through npm, never a commit.
Each JS/CSS file also gets a precompressed ``.gz`` twin that ``web.assets`` serves to browsers
that accept gzip. A ``manifest.json`` records what was copied and from which version.

``TEST_FILES`` (npm devDependencies: axe-core) are copied too, for the browser tests, which read them
from disk and inject them into the page; the site never serves them (``web.assets.TEST_ONLY``).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# package -> list of (file inside the package, destination inside vendor/<package>/)
FILES: dict[str, list[tuple[str, str]]] = {
    "leaflet": [
        ("dist/leaflet.js", "leaflet.js"),
        ("dist/leaflet.css", "leaflet.css"),
        ("dist/images/layers.png", "images/layers.png"),
        ("dist/images/layers-2x.png", "images/layers-2x.png"),
        ("dist/images/marker-icon.png", "images/marker-icon.png"),
        ("dist/images/marker-icon-2x.png", "images/marker-icon-2x.png"),
        ("dist/images/marker-shadow.png", "images/marker-shadow.png"),
        ("LICENSE", "LICENSE"),
    ],
    "leaflet.markercluster": [
        ("dist/leaflet.markercluster.js", "leaflet.markercluster.js"),
        ("dist/MarkerCluster.css", "MarkerCluster.css"),
        ("dist/MarkerCluster.Default.css", "MarkerCluster.Default.css"),
        ("MIT-LICENCE.txt", "LICENSE"),
    ],
    # zoom with ctrl + wheel or two fingers in an embedded map: the host page keeps its scrolling
    "leaflet-gesture-handling": [
        ("dist/leaflet-gesture-handling.min.js", "leaflet-gesture-handling.js"),
        ("dist/leaflet-gesture-handling.min.css", "leaflet-gesture-handling.css"),
        ("LICENSE", "LICENSE"),
    ],
}

# Only for the browser tests (tests/browser/test_axe_browser.py): never linked from a page, never served.
TEST_FILES: dict[str, list[tuple[str, str]]] = {
    "axe-core": [
        ("axe.min.js", "axe.min.js"),
        ("LICENSE", "LICENSE"),
    ],
}

# The source maps are not shipped; drop the comment so that developer tools do not ask for them.
_SOURCE_MAP = re.compile(rb"\n?/[/*][#@] sourceMappingURL=[^\n]*\n?")


def locked_versions(lock_path: Path) -> dict[str, str]:
    """Versions of the top-level packages as pinned in package-lock.json (lockfile v2/v3)."""
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    packages = lock.get("packages", {})
    return {name: packages.get(f"node_modules/{name}", {}).get("version", "") for name in {**FILES, **TEST_FILES}}


def copy_assets(node_modules: Path, dest: Path, lock_path: Path) -> dict[str, dict]:
    """Copy the files listed in ``FILES``; return the manifest written to ``dest/manifest.json``."""
    pinned = locked_versions(lock_path)
    if dest.exists():
        shutil.rmtree(dest)
    manifest: dict[str, dict] = {}
    for package, files in {**FILES, **TEST_FILES}.items():
        pkg_dir = node_modules / package
        meta_path = pkg_dir / "package.json"
        if not meta_path.is_file():
            raise SystemExit(f"{meta_path} is missing: run `npm ci --ignore-scripts` first")
        version = json.loads(meta_path.read_text(encoding="utf-8"))["version"]
        if pinned.get(package) and version != pinned[package]:
            raise SystemExit(
                f"{package} {version} is installed but package-lock.json pins {pinned[package]}: "
                "run `npm ci --ignore-scripts`"
            )
        entry = {"version": version, "files": {}}
        if package in TEST_FILES:
            entry["test_only"] = True
        for src_rel, dst_rel in files:
            data = (pkg_dir / src_rel).read_bytes()
            if dst_rel.endswith((".js", ".css")):
                data = _SOURCE_MAP.sub(b"\n", data)
            target = dest / package / dst_rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if dst_rel.endswith((".js", ".css")) and package not in TEST_FILES:
                # mtime=0: the same input gives the same bytes (reproducible builds).
                (target.parent / (target.name + ".gz")).write_bytes(gzip.compress(data, 9, mtime=0))
            entry["files"][dst_rel] = {
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        manifest[package] = entry
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=ROOT / "web" / "static" / "vendor")
    parser.add_argument("--lock", type=Path, default=ROOT / "package-lock.json")
    args = parser.parse_args(argv)
    manifest = copy_assets(args.node_modules, args.dest, args.lock)
    for package, entry in manifest.items():
        size = sum(f["bytes"] for f in entry["files"].values())
        print(f"{package} {entry['version']}: {len(entry['files'])} files, {size / 1024:.0f} KiB -> {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
