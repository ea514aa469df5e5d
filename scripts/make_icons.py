"""Draw the installable app's PNG icons from the site's own icon (``web/static/img/icon.svg``).

    python scripts/make_icons.py            # writes web/static/img/icon-{192,512}.png, icon-maskable-{192,512}.png
    python scripts/make_icons.py --check    # exit 1 if the committed files show other pixels than it draws

The shapes are those of ``icon.svg`` (a 32-unit square: a green rounded square, a white house with a
chimney), drawn with numpy (4 x 4 samples a pixel) and written as PNG with zlib: no image library, no
font, no artwork but our own. The ``any`` icons keep the rounded square on a transparent ground; the
``maskable`` ones fill the whole square with green and shrink the house into the central safe zone
(a circle of 40 % of the width around the centre), as the web app manifest's maskable icons need.
"""
from __future__ import annotations

import argparse
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "web" / "static" / "img"
GREEN = (0x0B, 0x6E, 0x4F)
WHITE = (0xFF, 0xFF, 0xFF)
SIZES = (192, 512)
SUPER = 4  # samples per pixel along each axis
# icon.svg's paths, in its 32-unit square
HOUSE = [(6, 15), (16, 7), (26, 15), (23, 15), (23, 25), (18, 25), (18, 19), (14, 19), (14, 25), (9, 25), (9, 15)]
CHIMNEY = [(20, 9), (23, 9), (23, 13), (20, 10.6)]
CORNER = 7  # the rounded square's radius


def _inside_polygon(x: np.ndarray, y: np.ndarray, poly: list[tuple[float, float]]) -> np.ndarray:
    """Even-odd rule: whether each (x, y) sample lies inside ``poly``."""
    inside = np.zeros(x.shape, dtype=bool)
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i - 1) % n]
        if y1 == y2:
            continue
        crosses = (y1 > y) != (y2 > y)
        x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_at)
    return inside


def _inside_rounded_square(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    cx = np.clip(x, CORNER, 32 - CORNER)
    cy = np.clip(y, CORNER, 32 - CORNER)
    return ((x - cx) ** 2 + (y - cy) ** 2 <= CORNER ** 2) & (x >= 0) & (x <= 32) & (y >= 0) & (y <= 32)


def draw(size: int, maskable: bool) -> np.ndarray:
    """RGBA pixels (``size`` x ``size`` x 4, uint8) of the icon."""
    n = size * SUPER
    unit = (np.arange(n) + 0.5) / n * 32  # sample centres in the 32-unit square
    x, y = np.meshgrid(unit, unit)
    if maskable:
        ground = np.ones(x.shape, dtype=bool)
        # the house (x 6..26, y 7..25: centre (16, 16)) scaled into the safe zone's circle
        scale = 0.8  # its farthest corner (9, 25) then lies 28 % of the width from the centre
        hx, hy = 16 + (x - 16) / scale, 16 + (y - 16) / scale
    else:
        ground = _inside_rounded_square(x, y)
        hx, hy = x, y
    house = _inside_polygon(hx, hy, HOUSE) | _inside_polygon(hx, hy, CHIMNEY)
    house &= ground

    def cover(mask: np.ndarray) -> np.ndarray:
        return mask.reshape(size, SUPER, size, SUPER).mean(axis=(1, 3))

    alpha = cover(ground)
    white = cover(house)
    rgba = np.zeros((size, size, 4))
    for c in range(3):
        # house over green, both over transparent: colour = premultiplied mix / coverage
        mixed = GREEN[c] * (alpha - white) + WHITE[c] * white
        rgba[..., c] = np.divide(mixed, alpha, out=np.zeros_like(mixed), where=alpha > 0)
    rgba[..., 3] = alpha * 255
    return np.rint(rgba).astype(np.uint8)


def png_bytes(rgba: np.ndarray) -> bytes:
    """A PNG file (8-bit RGBA, no filter) of the pixels."""
    height, width, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def png_pixels(data: bytes) -> tuple[bytes, bytes]:
    """(IHDR, decompressed image data) of a PNG: what it shows, whatever zlib compressed it."""
    header, image, at = b"", b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            image += body
        at += 12 + length
    return header, zlib.decompress(image)


def icons() -> dict[str, bytes]:
    """File name -> PNG bytes of every icon."""
    out = {}
    for size in SIZES:
        out[f"icon-{size}.png"] = png_bytes(draw(size, maskable=False))
        out[f"icon-maskable-{size}.png"] = png_bytes(draw(size, maskable=True))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, data in icons().items():
        path = OUT / name
        if args.check:
            if not path.is_file() or png_pixels(path.read_bytes()) != png_pixels(data):
                stale.append(name)
        else:
            path.write_bytes(data)
            print(f"{path} ({len(data):,} bytes)")
    if stale:
        print("out of date: " + ", ".join(stale) + " (run scripts/make_icons.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
