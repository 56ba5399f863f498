"""Shapes of the structures on the map, drawn into the map style's own sprite (``assets/sprite/``). No dash import.

Why a sprite: plotly's ``scattermap`` draws anything but a plain circle as a MapLibre icon named by ``marker.symbol``,
taken from the style's sprite (plotly's default styles point at another server's Maki icons). Each structure type
gets its shape *and* its colour (never colour alone), inside a white halo and a dark edge so it shows on every class
colour; the crèches keep their size by places as four sizes of circle. The same shapes as the fiche PDF.

``python -m dashboard.map.symbols`` redraws ``assets/sprite/`` (a test checks the committed files are up to date).
"""

from __future__ import annotations

import json
import math
import struct
import sys
import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from shapely import affinity, contains_xy
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from dashboard.core.model import POINT_LAYER_SPECS

SPRITE_DIR = Path(__file__).resolve().parents[2] / "assets" / "sprite"
SPRITE_URL = "/assets/sprite/ctg"
"""Sprite served by the app itself (``.json``/``.png``, ``@2x`` for dense screens). Not the style's ``sprite``:
MapLibre wants an absolute URL there, which the server cannot know; ``assets/map.js`` adds the images to the map."""

SHAPES: dict[str, str] = {
    "eaje": "circle",
    "alsh": "triangle",
    "centres_sociaux": "square",
    "evs": "triangle-down",
    "caf_accueils": "plus",
    "caf_2016": "plus",
    "france_services": "diamond",
    "bpe": "hexagon",
}
"""Point layer key → shape. Caf 2016 shares the Caf shape (same service, older directory) in grey."""

COLORS: dict[str, str] = {spec.key: spec.color for spec in POINT_LAYER_SPECS}
"""Colour of each point layer: its own (:data:`dashboard.core.model.POINT_LAYER_SPECS`), one home."""

SYMBOL_PX = 13.0
"""Shape extent in CSS pixels (before halo and edge)."""
EAJE_PX = (9.0, 13.0, 17.0, 22.0)
"""Crèche circle diameters, by places (:func:`eaje_size_class`)."""
EAJE_PLACES = (15, 30, 50)
"""Upper bounds (exclusive) of the first three size classes of places."""
HALO_PX = 2.0
EDGE_PX = 1.0
EDGE = "#1a1a1a"
MARKER_SIZE = 10
"""plotly sets ``icon-size = marker.size / 10``: 10 draws the sprite images at their own size."""


def symbol_name(key: str, size_class: int = 0) -> str:
    """Sprite image name of a point layer (crèches: one per size class 1-4)."""
    # An underscore on purpose: plotly fetches any missing icon whose name is only letters, digits and hyphens from a
    # CDN (Maki icons); this name never leaves the app, even before ``assets/map.js`` has added the images.
    return f"ctg_{key}_{size_class}" if key == "eaje" and size_class else f"ctg_{key}"


def eaje_size_class(places: float | None) -> int:
    """Size class 1-4 of a crèche from its places (1 when unknown): small, medium, large, very large."""
    if places is None or not math.isfinite(places) or places <= 0:
        return 1
    return 1 + sum(places >= bound for bound in EAJE_PLACES)


def _shape(kind: str, size: float) -> BaseGeometry:
    r = size / 2
    if kind == "circle":
        return Point(0, 0).buffer(r, quad_segs=32)
    if kind == "square":
        return Polygon([(-r * 0.85, -r * 0.85), (r * 0.85, -r * 0.85), (r * 0.85, r * 0.85), (-r * 0.85, r * 0.85)])
    if kind in {"triangle", "triangle-down"}:
        tri = Polygon([(0, -r * 1.1), (r * 1.05, r * 0.75), (-r * 1.05, r * 0.75)])
        return affinity.scale(tri, 1, -1, origin=(0, 0)) if kind == "triangle-down" else tri
    if kind == "diamond":
        return Polygon([(0, -r * 1.1), (r * 1.1, 0), (0, r * 1.1), (-r * 1.1, 0)])
    if kind == "hexagon":
        return Polygon([(r * math.cos(a), r * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 7)[:-1] + math.pi / 6])
    if kind == "plus":
        w = r * 0.42
        return Polygon([(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w), (-r, w),
                        (-r, -w), (-w, -w)])  # fmt: skip
    raise ValueError(f"Forme inconnue : {kind}")


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def draw_symbol(kind: str, size: float, color: str, ratio: int = 1) -> np.ndarray:
    """RGBA image (uint8, H×W×4) of a shape: fill, white halo, dark edge, anti-aliased (4×4 samples per pixel)."""
    fill = affinity.scale(_shape(kind, size), ratio, ratio, origin=(0, 0))
    halo = fill.buffer(HALO_PX * ratio, join_style="mitre" if kind != "circle" else "round")
    edge = halo.buffer(EDGE_PX * ratio)
    west, south, east, north = edge.bounds
    side = math.ceil(max(east - west, north - south)) + 2
    side += side % 2
    n = 4
    axis = (np.arange(side * n) + 0.5) / n - side / 2
    xs, ys = np.meshgrid(axis, axis)

    def coverage(geom: BaseGeometry) -> np.ndarray:
        inside = contains_xy(geom, xs, ys).astype(float)
        return inside.reshape(side, n, side, n).mean(axis=(1, 3))

    f, h, o = coverage(fill), coverage(halo), coverage(edge)
    premult = f[..., None] * _rgb(color) + (h - f)[..., None] * _rgb("#ffffff") + (o - h)[..., None] * _rgb(EDGE)
    alpha = np.clip(o, 0, 1)
    rgb = np.where(alpha[..., None] > 0, premult / np.maximum(alpha[..., None], 1e-9), 0)
    image = np.dstack([rgb, alpha * 255])
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def sprite_images() -> dict[str, tuple[str, float, str]]:
    """Image name → (shape, size in px, colour) of every sprite image."""
    images = {}
    for key, kind in SHAPES.items():
        if key == "eaje":
            for size_class, size in enumerate(EAJE_PX, start=1):
                images[symbol_name(key, size_class)] = (kind, size, COLORS[key])
        else:
            images[symbol_name(key)] = (kind, SYMBOL_PX, COLORS[key])
    images[symbol_name("eaje")] = (SHAPES["eaje"], EAJE_PX[1], COLORS["eaje"])  # legend and unknown places
    return images


@lru_cache(maxsize=1)
def sprite_index() -> dict[str, dict[str, int]]:
    """Position of each image in the committed ``ctg.png`` (legend swatches cut it with CSS)."""
    return json.loads((SPRITE_DIR / "ctg.json").read_text(encoding="utf-8"))


def png_bytes(image: np.ndarray) -> bytes:
    """A minimal RGBA PNG (no dependency beyond zlib)."""
    height, width = image.shape[:2]
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def build_sprite(ratio: int = 1) -> tuple[dict[str, dict[str, int]], bytes]:
    """The sprite index (MapLibre format) and its PNG, images side by side on one row."""
    drawn = {name: draw_symbol(kind, size, color, ratio) for name, (kind, size, color) in sprite_images().items()}
    height = max(img.shape[0] for img in drawn.values())
    width = sum(img.shape[1] for img in drawn.values())
    sheet = np.zeros((height, width, 4), dtype=np.uint8)
    index: dict[str, dict[str, int]] = {}
    x = 0
    for name, img in drawn.items():
        h, w = img.shape[:2]
        sheet[:h, x : x + w] = img
        index[name] = {"x": x, "y": 0, "width": w, "height": h, "pixelRatio": ratio}
        x += w
    return index, png_bytes(sheet)


def write_sprite(directory: Path = SPRITE_DIR, ratios: Sequence[int] = (1, 2)) -> list[Path]:
    """Write ``ctg.json``/``ctg.png`` and ``ctg@2x.*`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for ratio in ratios:
        index, png = build_sprite(ratio)
        stem = "ctg" if ratio == 1 else f"ctg@{ratio}x"
        (directory / f"{stem}.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
        (directory / f"{stem}.png").write_bytes(png)
        written += [directory / f"{stem}.json", directory / f"{stem}.png"]
    return written


if __name__ == "__main__":
    for path in write_sprite(Path(sys.argv[1]) if len(sys.argv) > 1 else SPRITE_DIR):
        sys.stdout.write(f"{path}\n")
