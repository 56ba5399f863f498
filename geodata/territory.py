"""Whether a located thing is in the territory, or in its commune: one check, in metres (Lambert-93).

Why one place: a point of another département, or with latitude and longitude swapped, would silently land in the
sea or count for the wrong commune, so every importer refuses it; and a tolerance written in degrees means a
different distance north-south and east-west (0,005° is 555 m of latitude but 410 m of longitude in the 66). Here
every distance is in metres, computed in Lambert-93 (:data:`geodata.crs.LAMBERT93`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geodata.crs import LAMBERT93, WGS84

PUBLIC_TOLERANCE_M = 2000.0
"""A public-layer geometry may lie this far outside the communes (coast, geocoding on a border road)."""
CAF_TOLERANCE_M = 500.0
"""A CAF structure may lie this far outside the communes (a seafront site geocoded in the water stays in)."""
COMMUNE_TOLERANCE_M = 300.0
"""A CAF structure may lie this far outside its own commune before a warning says the code may be wrong."""


def points(lon: np.ndarray, lat: np.ndarray) -> gpd.GeoSeries:
    """WGS84 points from longitude and latitude arrays."""
    return gpd.GeoSeries(shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)), crs=WGS84)


def near_territory(geoms: gpd.GeoSeries, communes: gpd.GeoDataFrame, tolerance_m: float) -> np.ndarray:
    """For each geometry (its representative point), whether it lies within ``tolerance_m`` metres of a commune."""
    inside = np.zeros(len(geoms), dtype=bool)
    if not len(geoms):
        return inside
    tree = shapely.STRtree(communes.geometry.to_crs(LAMBERT93).to_numpy())
    probes = geoms.to_crs(LAMBERT93).representative_point().to_numpy()
    hits, _ = tree.query(probes, predicate="dwithin", distance=tolerance_m)
    inside[hits] = True
    return inside


def near_own_commune(geoms: gpd.GeoSeries, commune_geoms: gpd.GeoSeries, tolerance_m: float) -> np.ndarray:
    """For each geometry, whether it lies within ``tolerance_m`` metres of the commune geometry at the same position."""
    if not len(geoms):
        return np.zeros(0, dtype=bool)
    own = commune_geoms.to_crs(LAMBERT93).to_numpy()
    probes = geoms.to_crs(LAMBERT93).to_numpy()
    return np.asarray(shapely.dwithin(own, probes, tolerance_m), dtype=bool)
