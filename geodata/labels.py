"""Where the map writes each commune's name: one point per commune, inside it, ranked. Pure geometry, no dash.

Design and measures: ``docs/spikes/labels.md`` (issue 13, point 1). The map draws these points as MapLibre text;
the collision of MapLibre (no overlap) keeps the names of lower ``ordre`` first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

TOWN_MIN_POPULATION = 10_000
"""A commune this large is a « ville »: named at full view, like the most populated commune of each EPCI."""
POLYLABEL_MAX_COMMUNES = 5_000
"""Above this many communes (national bundle) the cheaper ``representative_point`` replaces ``polylabel``."""


def label_features(communes: Any, population: Mapping[str, float]) -> list[dict[str, Any]]:
    """One GeoJSON point per commune, far from its edges, with its name, placement order and town flag.

    Why the pole of inaccessibility (``polylabel``) of the largest part: a centroid can fall outside a crescent-shaped
    commune or on its border, where the name would read as the neighbour's. ``ordre`` 0 is placed first: towns, then
    decreasing population. ``ville``: the most populated commune of each EPCI (every part of the territory gets a name
    at full view) and every commune of at least :data:`TOWN_MIN_POPULATION` inhabitants.
    """
    from shapely.ops import polylabel

    precise = len(communes) <= POLYLABEL_MAX_COMMUNES
    rows = []
    for row in communes.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        part = max(geom.geoms, key=lambda g: g.area) if geom.geom_type == "MultiPolygon" else geom
        point = polylabel(part, tolerance=0.0005) if precise else part.representative_point()
        code = str(row.code)
        rows.append((code, str(row.nom), str(row.epci_code), float(population.get(code, 0.0) or 0.0), point))
    centres: dict[str, tuple[str, float]] = {}
    for code, _name, epci, pop, _point in rows:
        if epci not in centres or pop > centres[epci][1]:
            centres[epci] = (code, pop)
    main = {code for code, _pop in centres.values()}
    ranked = sorted(rows, key=lambda r: (r[0] not in main and r[3] < TOWN_MIN_POPULATION, -r[3], r[0]))
    return [
        {
            "type": "Feature",
            "id": code,
            "geometry": {"type": "Point", "coordinates": [round(point.x, 5), round(point.y, 5)]},
            "properties": {"nom": name, "ordre": order, "ville": code in main or pop >= TOWN_MIN_POPULATION},
        }
        for order, (code, name, _epci, pop, point) in enumerate(ranked)
    ]


def label_geojson(communes: Any, population: Mapping[str, float]) -> bytes:
    """The label points as compact GeoJSON bytes, served once with the geometry (``/geo/<hash>/noms.json``)."""
    collection = {"type": "FeatureCollection", "features": label_features(communes, population)}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
