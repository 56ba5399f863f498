"""Names on the map and structure symbols (issue 13, points 1 and 2): the style, the label points, the sprite, the
places shared by several structures. Pure functions; the browser side is in ``test_browser_map.py``."""

from __future__ import annotations

import json
import math

import shapely
from dash import html

from dashboard.core.model import POINT_LAYER_SPECS
from dashboard.core.state import ViewState
from dashboard.map.card import make_point_details
from dashboard.map.figures import (
    HIDDEN,
    NAMES_LAYER,
    NAMES_REFERENCE_SIZES,
    TOWNS_LAYER,
    build_map_figure,
    names_minzoom,
    slot_id,
    view_for_bounds,
)
from dashboard.map.points import drawn_positions, place_key, point_symbols, stacked_with
from dashboard.map.symbols import COLORS, SHAPES, SPRITE_DIR, eaje_size_class, sprite_images, write_sprite
from geodata.labels import TOWN_MIN_POPULATION, label_features


def _figure(model, layers=("eaje",)):
    state = ViewState(indicator="eaje_places", layers=tuple(layers))
    return build_map_figure(model, state, model.classification("eaje_places", "quantiles", 5, ()))


def _text(component) -> str:
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, list | tuple):
        children = [children]
    return " ".join(_text(c) for c in children)


def test_label_points_lie_inside_their_commune_and_every_epci_has_a_town(bundle, model):
    communes = bundle.communes
    population = dict(zip(model.codes, model.population, strict=True))
    features = label_features(communes, population)
    assert len(features) == len(communes)
    by_code = {f["id"]: f for f in features}
    for row in communes.itertuples(index=False):
        x, y = by_code[str(row.code)]["geometry"]["coordinates"]
        assert shapely.contains_xy(row.geometry.buffer(1e-4), x, y), row.nom
    assert sorted(f["properties"]["ordre"] for f in features) == list(range(len(features)))
    towns = {f["id"] for f in features if f["properties"]["ville"]}
    for epci in set(model.epci_codes):
        assert towns & {c for c, e in zip(model.codes, model.epci_codes, strict=True) if e == epci}
    assert all(population[c] >= TOWN_MIN_POPULATION or c in towns for c in towns)
    # Towns are placed first (lower « ordre »): MapLibre keeps them when names collide.
    assert max(f["properties"]["ordre"] for f in features if f["properties"]["ville"]) < len(towns)


def test_the_style_draws_the_names_above_every_trace_from_this_server_only(model):
    fig = _figure(model).to_plotly_json()
    style = fig["layout"]["map"]["style"]
    ids = [layer["id"] for layer in style["layers"]]
    traces = fig["data"]
    assert [t["below"] for t in traces] == [slot_id(i) for i in range(len(traces))]
    assert ids[-2:] == [NAMES_LAYER, TOWNS_LAYER]
    assert ids.index(slot_id(len(traces) - 1)) < ids.index(NAMES_LAYER)
    assert not any(t.get("visible") is False for t in traces)  # hidden = « legendonly », keeps its slot
    assert HIDDEN in {t.get("visible") for t in traces}
    assert "http" not in json.dumps(style)  # glyphs and label points come from the app itself
    assert style["glyphs"].startswith("/assets/glyphs/")
    assert style["sources"]["ctg-noms"]["data"] == model.geo_url("noms")
    assert json.loads(model.geo["noms"])["features"]


def test_names_show_at_epci_zoom_not_at_the_full_view(model):
    threshold = names_minzoom(model.bounds)
    small, large = NAMES_REFERENCE_SIZES
    assert view_for_bounds(model.bounds[""], *large)[1] < threshold
    widest = min(view_for_bounds(b, *small)[1] for code, b in model.bounds.items() if code)
    assert threshold < widest


def test_each_structure_type_has_its_own_symbol_with_a_halo(model):
    assert set(SHAPES) == {spec.key for spec in POINT_LAYER_SPECS}
    looks = {(SHAPES[k], COLORS[k]) for k in SHAPES}
    assert len(looks) == len(SHAPES)  # never the same shape and colour twice
    assert len(set(SHAPES.values())) >= len(SHAPES) - 1  # shapes differ (Caf 2016 = Caf, in grey)
    fig = _figure(model, ("eaje", "france_services")).to_plotly_json()
    symbols = {t["name"]: set(t["marker"]["symbol"]) for t in fig["data"] if t["type"] == "scattermap"}
    assert len({frozenset(s) for s in symbols.values()}) == len(symbols)
    names = sprite_images()
    assert all(name in names for s in symbols.values() for name in s)
    # Any name plotly would fetch from a CDN (letters, digits, hyphens only) is avoided.
    assert all("_" in name for name in names)


def test_creches_are_sized_by_places():
    assert [eaje_size_class(p) for p in (None, math.nan, 0, 8, 20, 40, 80)] == [1, 1, 1, 1, 2, 3, 4]
    sizes = {name: size for name, (_kind, size, _color) in sprite_images().items() if name.startswith("ctg_eaje_")}
    assert sizes["ctg_eaje_1"] < sizes["ctg_eaje_2"] < sizes["ctg_eaje_3"] < sizes["ctg_eaje_4"]


def test_the_committed_sprite_is_up_to_date(tmp_path):
    write_sprite(tmp_path)
    for name in ("ctg.json", "ctg.png", "ctg@2x.json", "ctg@2x.png"):
        assert (tmp_path / name).read_bytes() == (SPRITE_DIR / name).read_bytes(), name


def test_structures_at_the_same_place_are_spread_and_all_listed(model):
    eaje = next(p for p in model.point_layers if p.spec.key == "eaje")
    shared = [
        i for i in range(len(eaje.lon)) if place_key(eaje.lon[i], eaje.lat[i]) == place_key(eaje.lon[1], eaje.lat[1])
    ]
    assert len(shared) == 2  # the fixture's two crèches at one town hall
    lons, lats = drawn_positions(model, eaje)
    drawn = {(lons[i], lats[i]) for i in shared}
    assert len(drawn) == 2  # no longer on top of each other
    for i in shared:  # within ~300 m of the place
        assert abs(lats[i] - eaje.lat[i]) < 0.003 and abs(lons[i] - eaje.lon[i]) < 0.004
    assert (lons[0], lats[0]) == (eaje.lon[0], eaje.lat[0])  # a structure alone stays where it is
    assert stacked_with(model, "eaje", shared[1]) == [("eaje", shared[1]), ("eaje", shared[0])]
    panel = make_point_details(model, "eaje", shared[0])
    text = _text(panel)
    assert "2 structures à cet endroit" in text
    assert all(eaje.names[i] in text for i in shared)
    assert sum(isinstance(c, html.H3) for c in panel.children) == 2
    assert len(point_symbols(eaje)) == len(eaje.lon)
