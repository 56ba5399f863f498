"""Structures on the map: where each point is drawn, its symbol, and which structures share a place. Pure, no dash.

Many structures are placed at their commune's town hall (no address geocoded) or share a building: drawn at the same
coordinates they would hide each other. Points sharing a place are spread on a small ring around it (deterministic:
same order on every page) and a click lists every structure of the place (:func:`stacked_with`).
"""

from __future__ import annotations

import math

from dashboard.core.model import DashboardModel, PointLayer
from dashboard.map.symbols import eaje_size_class, symbol_name

RING_DEG = 0.0022
"""Radius (degrees of latitude, ≈ 240 m) of the ring of a place shared by two to eight structures; wider above."""


def place_key(lon: float, lat: float) -> tuple[float, float]:
    """Coordinates rounded to about a metre: structures closer than that share a place."""
    return round(lon, 5), round(lat, 5)


_CACHE: dict[int, tuple[DashboardModel, tuple[dict, dict]]] = {}
"""id(model) → (model, layout): a model is read-only and lives as long as its app (one or two per process)."""


def _layout(model: DashboardModel) -> tuple[dict[str, tuple[tuple[float, ...], tuple[float, ...]]], dict]:
    cached = _CACHE.get(id(model))
    if cached is not None and cached[0] is model:
        return cached[1]
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(model)] = (model, _compute_layout(model))
    return _CACHE[id(model)][1]


def _compute_layout(model: DashboardModel) -> tuple[dict[str, tuple[tuple[float, ...], tuple[float, ...]]], dict]:
    groups: dict[tuple[float, float], list[tuple[str, int]]] = {}
    for layer in model.point_layers:
        for i, (lon, lat) in enumerate(zip(layer.lon, layer.lat, strict=True)):
            groups.setdefault(place_key(lon, lat), []).append((layer.spec.key, i))
    moved: dict[tuple[str, int], tuple[float, float]] = {}
    for (lon, lat), members in groups.items():
        if len(members) < 2:
            continue
        radius = RING_DEG * max(1.0, len(members) / 8)
        for n, member in enumerate(members):
            angle = math.pi / 2 - 2 * math.pi * n / len(members)  # first at the top, then clockwise
            moved[member] = (
                round(lon + radius * math.cos(angle) / math.cos(math.radians(lat)), 5),
                round(lat + radius * math.sin(angle), 5),
            )
    positions = {}
    for layer in model.point_layers:
        key = layer.spec.key
        lons = tuple(moved.get((key, i), (lon, 0.0))[0] for i, lon in enumerate(layer.lon))
        lats = tuple(moved.get((key, i), (0.0, lat))[1] for i, lat in enumerate(layer.lat))
        positions[key] = (lons, lats)
    return positions, groups


def drawn_positions(model: DashboardModel, layer: PointLayer) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(longitudes, latitudes) where the points of ``layer`` are drawn: their own, or spread around a shared place."""
    return _layout(model)[0][layer.spec.key]


def stacked_with(model: DashboardModel, key: str, index: int) -> list[tuple[str, int]]:
    """Every structure (layer key, index) at the same place as structure ``index`` of layer ``key``, itself first,
    in every layer (shown or not: the panel lists what is there)."""
    layer = next((p for p in model.point_layers if p.spec.key == key), None)
    if layer is None or not 0 <= index < len(layer.lon):
        return []
    members = _layout(model)[1].get(place_key(layer.lon[index], layer.lat[index]), [(key, index)])
    return [(key, index)] + [m for m in members if m != (key, index)]


def point_symbols(layer: PointLayer) -> list[str]:
    """Sprite image of each point (crèches: the size class of their places)."""
    key = layer.spec.key
    if key == "eaje" and layer.places:
        return [symbol_name(key, eaje_size_class(p)) for p in layer.places]
    return [symbol_name(key)] * len(layer.lon)
