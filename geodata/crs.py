"""Coordinate reference systems, named once: every table is stored and displayed in WGS84, every distance and area
is computed in Lambert-93 (metres), so a tolerance or a distance is always in metres."""

WGS84 = "EPSG:4326"
"""Longitude/latitude in degrees: the bundle's tables, GeoJSON and the browser."""
LAMBERT93_EPSG = 2154
LAMBERT93 = f"EPSG:{LAMBERT93_EPSG}"
"""Lambert-93, metres: areas, distances, tolerances (metropolitan France)."""
