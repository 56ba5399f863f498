"""Access indicators: straight-line distance from each town hall to the nearest structure of each type.

Distances are computed in Lambert-93 (EPSG:2154, metres → km) with shapely's STR-tree nearest-neighbour query, so
the national commune base (~35 000 communes) stays fast without importing scipy at start-up. A commune whose own
structure sits at its town hall gets 0 km (a true zero). An absent or empty layer gives ``nd`` (no structure means
no nearest one, not a distance of 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geodata.crs import LAMBERT93, WGS84
from indicators.common import Context
from indicators.offer import structure_points
from indicators.params import Params
from indicators.table import VALUE, Cols

_TO_L93 = Transformer.from_crs(WGS84, LAMBERT93, always_xy=True)


def to_lambert93(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees → Lambert-93 metres."""
    x, y = _TO_L93.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def nearest_km(origin_x: np.ndarray, origin_y: np.ndarray, points: pd.DataFrame) -> np.ndarray | None:
    """Distance (km) from each origin to the nearest point of ``points`` (``lon``/``lat``), None when no point."""
    pts = points[["lon", "lat"]].apply(pd.to_numeric, errors="coerce").dropna()
    if not len(pts):
        return None
    px, py = to_lambert93(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    targets = shapely.points(px, py)
    origins = shapely.points(origin_x, origin_y)
    pairs, dist = shapely.STRtree(targets).query_nearest(origins, return_distance=True, all_matches=False)
    out = np.full(len(origins), np.nan)
    out[pairs[0]] = dist
    return out / 1000.0


def compute_access(ctx: Context, cols: Cols, raw: Cols, params: Params) -> None:
    """Fill ``distance_*_km``, ``eloigne_*`` (oui/non per commune: the map layer) and ``part_pop_loin_*`` (0 or 100
    per commune, population-weighted above: the EPCI and département share)."""
    base = ctx.base
    index = base.index
    pop = base["population"].astype(float)
    thresholds = {
        "eaje": params.seuil_eaje_km,
        "alsh": params.seuil_alsh_km,
        "centre_social": params.seuil_centre_social_km,
        "caf": params.seuil_caf_km,
        "france_services": params.seuil_france_services_km,
    }
    for kind, (points, note) in structure_points(ctx).items():
        dist_key, share_key, far_key = f"distance_{kind}_km", f"part_pop_loin_{kind}", f"eloigne_{kind}"
        dist = None if points is None else nearest_km(base["x"].to_numpy(), base["y"].to_numpy(), points)
        if dist is None:
            reason = "couche absente" if points is None else "aucune structure dans la couche"
            cols.put_nd(dist_key, reason)
            if kind != "centre_social":
                cols.put_nd(share_key, reason)
                cols.put_nd(far_key, reason, text=True)
            raw.put_nd(f"_dist_{kind}_x_pop")
            raw.put_nd(f"_loin_{kind}_pop")
            continue
        d = pd.Series(dist, index=index)
        far = (d > thresholds[kind]).astype(float)
        cols.put(dist_key, d, VALUE, note)
        if kind != "centre_social":
            cols.put(share_key, 100.0 * far, VALUE, note)
            cols.put(far_key, far.map({1.0: "oui", 0.0: "non"}).astype(object), VALUE, note)
        raw.put(f"_dist_{kind}_x_pop", d * pop)
        raw.put(f"_loin_{kind}_pop", far * pop)
