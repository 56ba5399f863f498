"""One point-in-territory check, in metres (geodata.territory)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geodata import territory
from geodata.crs import LAMBERT93, WGS84


def _square_commune() -> gpd.GeoDataFrame:
    """A 10 km square commune in Lambert-93 near Perpignan, stored in WGS84 like every bundle table."""
    x, y = 690_000.0, 6_175_000.0
    square = shapely.box(x, y, x + 10_000, y + 10_000)
    return gpd.GeoDataFrame({"code": ["66999"]}, geometry=[square], crs=LAMBERT93).to_crs(WGS84)


def _at(dx_m: float) -> gpd.GeoSeries:
    """A point ``dx_m`` metres east of the square's east edge, half-way up (in WGS84)."""
    point = shapely.Point(700_000.0 + dx_m, 6_180_000.0)
    return gpd.GeoSeries([point], crs=LAMBERT93).to_crs(WGS84)


def test_tolerance_is_in_metres_whatever_the_direction():
    commune = _square_commune()
    assert territory.near_territory(_at(-100), commune, territory.CAF_TOLERANCE_M).tolist() == [True]
    assert territory.near_territory(_at(450), commune, territory.CAF_TOLERANCE_M).tolist() == [True]
    assert territory.near_territory(_at(600), commune, territory.CAF_TOLERANCE_M).tolist() == [False]
    assert territory.near_territory(_at(1_900), commune, territory.PUBLIC_TOLERANCE_M).tolist() == [True]
    assert territory.near_territory(_at(2_100), commune, territory.PUBLIC_TOLERANCE_M).tolist() == [False]


def test_own_commune_and_swapped_coordinates():
    commune = _square_commune()
    near = territory.near_own_commune(_at(250), commune.geometry, territory.COMMUNE_TOLERANCE_M)
    far = territory.near_own_commune(_at(350), commune.geometry, territory.COMMUNE_TOLERANCE_M)
    assert near.tolist() == [True] and far.tolist() == [False]
    point = _at(-5_000).iloc[0]
    swapped = territory.points(np.array([point.y]), np.array([point.x]))
    assert territory.near_territory(swapped, commune, territory.CAF_TOLERANCE_M).tolist() == [False]
    assert territory.near_territory(gpd.GeoSeries([], crs=WGS84), commune, 1.0).tolist() == []
