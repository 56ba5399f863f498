"""Callbacks called as plain functions: they return Patch objects of values only, a few KB at most."""

from __future__ import annotations

import io
from contextvars import copy_context

import openpyxl
import pandas as pd
import pytest
from dash import html, no_update
from plotly.io.json import to_json_plotly

from dashboard.core import ids
from dashboard.exports.table import export_bytes
from dashboard.map import callbacks
from dashboard.map.callbacks import (
    click_target,
    layers_patch,
    on_map_click,
    update_commune_card,
    update_legend,
    update_map_classes,
    update_map_view,
    update_table,
    view_patch,
)
from dashboard.map.figures import DIM_OPACITY, FULL_OPACITY, SCREEN_BOTTOM_PX, map_frame, trace_index
from geodata.numbers import plural
from tests.dashboard.conftest import HTML_NAME

MAX_PATCH_BYTES = 3 * 1024


def app_context_figure(model):
    from dashboard.core.state import ViewState
    from dashboard.map.figures import build_map_figure

    state = ViewState(indicator="eaje_places")
    return build_map_figure(model, state, model.classification("eaje_places", "quantiles", 5, ()))


def _operations(patch):
    return patch.to_plotly_json()["operations"]


def _size(patch) -> int:
    return len(to_json_plotly(patch.to_plotly_json()).encode("utf-8"))


def _text(component) -> str:
    """All string children of a component tree."""
    if isinstance(component, str):
        return component
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    children = getattr(component, "children", None)
    return _text(children) if children is not None else ""


@pytest.mark.parametrize("indicator", ["population", "eaje_places", "distance_eaje_km", "sous_dotation"])
@pytest.mark.parametrize("method", ["quantiles", "jenks", "egaux"])
def test_class_patch_sends_values_only_and_is_small(app_context, model, indicator, method):
    patch = update_map_classes(indicator, method, 7, "")
    ops = _operations(patch)
    communes = [op for op in ops if op["location"][:2] == ["data", trace_index(model, "communes")]]
    assert {tuple(op["location"][-1:]) for op in communes} == {
        ("z",),
        ("colorscale",),
        ("zmin",),
        ("zmax",),
        ("hovertemplate",),
    }
    # The only other trace touched: the dark outline of the « non disponible » communes (their codes, a short list).
    others = [op for op in ops if op not in communes]
    assert {tuple(op["location"]) for op in others} == {
        ("data", trace_index(model, "nd"), "locations"),
        ("data", trace_index(model, "nd"), "z"),
    }
    assert "geojson" not in to_json_plotly(patch.to_plotly_json())
    assert _size(patch) < MAX_PATCH_BYTES


def test_class_patch_encodes_special_states(app_context, model):
    all_ops = _operations(update_map_classes("eaje_places", "quantiles", 5, ""))
    communes, nd = trace_index(model, "communes"), trace_index(model, "nd")
    ops = {op["location"][-1]: op["params"]["value"] for op in all_ops if op["location"][1] == communes}
    # Fixture: first commune secret, second not available, third a true zero.
    assert ops["z"][:3] == [1, 0, 2]
    # The « non disponible » commune gets the dark outline (white fill), nothing else.
    outline = {op["location"][-1]: op["params"]["value"] for op in all_ops if op["location"][1] == nd}
    assert outline == {"locations": [model.codes[1]], "z": [0]}
    assert ops["zmin"] == -0.5
    column = list(model.columns).index("eaje_places")
    assert f"%{{customdata[{column}]}}" in ops["hovertemplate"]
    figure = app_context_figure(model)
    hover = figure.data[trace_index(model, "communes")].customdata
    assert [row[column] for row in hover[:3]] == ["secret statistique", "non disponible", "0"]


def test_manual_breaks_error_is_reported_in_french(app_context):
    legend, definition, error = update_legend("eaje_places", "manuel", 5, "10 ; onze", "")
    assert error == "Seuils ignorés : « onze » n'est pas un nombre."
    assert definition == "Places agréées."
    legend, _, error = update_legend("eaje_places", "manuel", 5, "10 ; 20", "")
    assert error == ""
    text = _text(legend)
    # Places are whole numbers: classes read « 1 – 10 », « 11 – 20 », « 21 – 40 », each with its share.
    assert "1 – 10" in text and "11 – 20" in text and "21 – 40" in text
    assert "secret statistique" in text and "non disponible" in text
    assert "1 commune (< 1 %)" in text and "(226\u00a0communes)" in text
    assert "Caf 66" in text and "millésime 2024" in text


def test_epci_view_patch_zooms_and_dims(app_context, model):
    epci = model.epci_codes[0]
    patch = update_map_view(epci, None, None)
    ops = {"/".join(map(str, op["location"])): op["params"]["value"] for op in _operations(patch)}
    opacity = ops[f"data/{trace_index(model, 'communes')}/marker/opacity"]
    inside = [code == epci for code in model.epci_codes]
    assert [o == FULL_OPACITY for o in opacity] == inside
    assert DIM_OPACITY in opacity
    west, south, east, north = model.bounds[epci]
    center = ops["layout/map/center"]
    assert west < center["lon"] < east and south < center["lat"] < north
    assert ops["layout/map/zoom"] > _view(view_patch(model, ""))["layout/map/zoom"]
    assert _size(patch) < MAX_PATCH_BYTES
    reset = {
        "/".join(map(str, op["location"])): op["params"]["value"] for op in _operations(update_map_view("", None, None))
    }
    assert reset[f"data/{trace_index(model, 'communes')}/marker/opacity"] == FULL_OPACITY


def _view(patch) -> dict:
    return {"/".join(map(str, op["location"])): op["params"]["value"] for op in _operations(patch)}


def test_choosing_a_commune_zooms_to_it_and_clearing_goes_back(app_context, model):
    epci = model.epci_codes[0]
    code = next(c for c, e in zip(model.codes, model.epci_codes, strict=True) if e == epci)
    viewport = {"mode": "", "height": 900, "map_width": 980, "map_top": 150, "legend_px": 0}
    on_commune = _view(update_map_view(epci, code, viewport))
    on_epci = _view(update_map_view(epci, None, viewport))
    west, south, east, north = model.commune_bounds[code]
    center = on_commune["layout/map/center"]
    assert west < center["lon"] < east and south < center["lat"] < north
    assert on_commune["layout/map/zoom"] > on_epci["layout/map/zoom"]
    assert on_commune["layout/map/uirevision"] != on_epci["layout/map/uirevision"]
    # No geometry travels: only the view and the opacity of the communes.
    assert set(on_commune) == {
        "layout/height",
        "layout/map/center",
        "layout/map/zoom",
        "layout/map/uirevision",
        f"data/{trace_index(model, 'communes')}/marker/opacity",
    }


def test_the_view_fits_the_real_map_size_and_keeps_clear_of_the_legends(app_context, model):
    small = {"mode": "", "height": 768, "map_width": 600, "map_top": 120}
    large = {"mode": "", "height": 1080, "map_width": 1400, "map_top": 120}
    assert (
        _view(update_map_view("", None, large))["layout/map/zoom"]
        > _view(update_map_view("", None, small))["layout/map/zoom"]
    )
    # Legends over the left 300 px: same zoom as a 1100 px map, the territory's centre 150 px right of the map's.
    covered = _view(update_map_view("", None, {**large, "legend_px": 300}))
    narrower = _view(update_map_view("", None, {**large, "map_width": 1100}))
    assert covered["layout/map/zoom"] == narrower["layout/map/zoom"]
    assert covered["layout/map/center"]["lon"] < narrower["layout/map/center"]["lon"]
    # The map height follows the window below the map's top.
    assert map_frame(large)[1] == 1080 - 120 - SCREEN_BOTTOM_PX


def test_layer_patch_toggles_visibility_only(app_context, model):
    patch = layers_patch(model, ["eaje", "zrr"])
    ops = {op["location"][1]: op["params"]["value"] for op in _operations(patch)}
    assert ops[trace_index(model, "pt:eaje")] is True
    assert ops[trace_index(model, "pt:france_services")] == "legendonly"
    assert ops[trace_index(model, "zrr")] is True
    assert ops[trace_index(model, "epci")] == "legendonly"
    assert trace_index(model, "communes") not in ops
    assert _size(patch) < 1024


def test_table_and_summary_follow_the_epci(app_context, model):
    epci = model.epci_codes[0]
    rows, columns, summary = update_table("eaje_places", epci)
    assert len(rows) == model.epci_codes.count(epci)
    assert {row["code"] for row in rows} == {c for c, e in zip(model.codes, model.epci_codes, strict=True) if e == epci}
    assert columns[-2]["type"] == "numeric"
    text = _text(summary)
    # The EPCI beside the département: communes, inhabitants, places, levels with shares, ZRR communes.
    assert f"EPCI Département Communes {len(rows)} 226" in text
    assert "Places en EAJE 100 3 000" in text
    level = model.columns["sous_dotation"].values
    p1 = sum(1 for v, e in zip(level, model.epci_codes, strict=True) if v == "P1" and e == epci)
    assert f"P1 {p1} commune" in text and "57 communes (25 %)" in text
    all_rows, _, _ = update_table("eaje_places", "")
    assert len(all_rows) == 226
    assert all_rows[0]["valeur"] is None and all_rows[0]["etat"] == "secret statistique"
    assert all_rows[2]["valeur"] == 0.0 and all_rows[2]["etat"] == ""


def test_table_number_formats_keep_their_own_decimals(app_context):
    _, columns, _ = update_table("taux_pauvrete", "")
    by_id = {c["id"]: c for c in columns}
    # One decimal for the rate, none for the population (a shared Format object used to give both the last one).
    assert by_id["valeur"]["format"].to_plotly_json()["specifier"] == ",.1f"
    assert by_id["population"]["format"].to_plotly_json()["specifier"] == ",.0f"


def test_click_targets():
    assert click_target({"points": [{"location": "66136", "curveNumber": 1}]}) == ("commune", "66136", -1)
    assert click_target({"points": [{"customdata": "eaje:2", "curveNumber": 9}]}) == ("point", "eaje", 2)
    assert click_target(None) == ("", "", -1)


def test_click_on_a_point_shows_its_escaped_name(app_context, model):
    index = model.point_layers[0].names.index(HTML_NAME)
    commune, details = on_map_click({"points": [{"customdata": f"eaje:{index}"}]})
    assert commune is callbacks.no_update
    assert details.children[0].children == HTML_NAME  # a string child: React shows it as text
    layer = model.point_layers[0]
    assert "&lt;b&gt;html&lt;/b&gt; &amp; Cie" in layer.hover[index]
    assert "<b>html</b>" not in layer.hover[index]


def test_click_on_a_commune_picks_it(app_context):
    commune, details = on_map_click({"points": [{"location": "66136"}]})
    assert commune == "66136"
    assert details is callbacks.no_update


def test_commune_card_compares_with_epci_departement_france(app_context, model):
    card = update_commune_card("66136", "eaje_places")
    text = _text(card)
    assert "Perpignan (66136)" in text
    assert "3\u202f000\u00a0places" in text  # département
    assert "100\u00a0places" in text  # EPCI
    assert "à confirmer  : 2 600 – 3 600 € par place nouvelle et par an" in text  # status in bold, then the span
    assert "<script>x</script>" in text  # motif shown as plain text
    every = text.split("Tous les indicateurs")[1].split("Zonages")[0]
    assert "France" not in every  # no national figure: no column
    assert "ZRR 2017" in text
    assert update_commune_card(None, "eaje_places").children.children.startswith("Cliquez")


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str):
            yield from _walk(child)


def test_commune_card_reads_in_ten_seconds(app_context, model):
    """Issue 13 point 4: who, how many (with the year), level and bonus with their reasons first; details folded."""
    card = update_commune_card("66136", "population")
    top = card.children
    assert top[0].children == "Perpignan (66136)"
    assert "habitants (" in top[1].children  # population with its year label
    verdict = next(c for c in top if "card-verdict" in (getattr(c, "className", "") or ""))
    terms = [c.children for c in verdict.children if isinstance(c, html.Dt)]
    assert terms[:2] == ["Sous-dotation", "Bonus territoire"]
    level = next(c for c in verdict.children if isinstance(c, html.Dd))
    assert isinstance(level.children[0], html.Strong) and level.children[0].children  # the level, in bold
    heading = next(c for c in top if isinstance(c, html.H3))
    assert top.index(verdict) < top.index(heading) and heading.children.startswith("Chiffres clés")
    key_table = top[top.index(heading) + 1]
    headers = [th.children for th in _walk(key_table) if isinstance(th, html.Th)]
    assert headers == ["Indicateur", "Commune", "EPCI", "Dépt"]
    key_rows = [r for r in _walk(key_table) if isinstance(r, html.Tr)][1:]
    assert key_rows[0].className == "current"  # the indicator on the map comes first
    assert len(key_rows) < len(model.columns)
    folded = [c for c in top if isinstance(c, html.Details)]
    assert folded and all(not d.open for d in folded)
    assert [d.children[0].children.split(" (")[0].split(" :")[0] for d in folded][-3:] == [
        "Tous les indicateurs",
        "Zonages",
        "Structures les plus proches de la mairie",
    ]


def test_exports_are_formula_safe(app_context, model):
    content, name = export_bytes(model, "", "csv")
    assert name == "communes_66.csv"
    text = content.decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(text), sep=";", decimal=",", dtype=str, comment="#")
    assert len(frame) == 226
    assert frame.columns[0] == "Code commune"
    assert not frame.map(lambda v: isinstance(v, str) and v[:1] in "=+@").any().any()
    xlsx, name = export_bytes(model, model.epci_codes[0], "xlsx")
    assert name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    sheet = book["Communes"]
    assert sheet.cell(4, 1).value == "Code commune"
    assert sheet.max_row == 4 + model.epci_codes.count(model.epci_codes[0])
    assert not any(c.data_type == "f" for s in book.worksheets for r in s.iter_rows() for c in r)


def test_exports_carry_sources_fictitious_data_rounded_values_and_states(app_context, model):
    """Point 7 of issue 13: what a CSV or XLSX from the map page says once it has left the app."""
    text = export_bytes(model, "", "csv")[0].decode("utf-8-sig")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments[0].startswith("# Données fictives")
    for src in model.sources:
        assert any(src.label in line and (src.vintage or "non précisé") in line for line in comments), src.label
    frame = pd.read_csv(io.StringIO(text), sep=";", dtype=str, comment="#", keep_default_na=False)
    assert not [c for c in frame.columns if "état" in c]
    states = {"secret statistique", "non disponible"}
    seen_states: set[str] = set()
    for col in (*model.columns.values(), *model.companions.values()):
        if col.meta.kind != "numeric":
            continue
        header = f"{col.meta.label} ({col.meta.unit})" if col.meta.unit else col.meta.label
        cells = frame[header]
        seen_states |= set(cells) & states
        numbers = cells[~cells.isin(states)]
        pattern = r"-?\d+" + (rf"(,\d{{1,{col.meta.decimals}}})?" if col.meta.decimals else "")
        assert numbers.str.fullmatch(pattern).all(), (header, list(numbers[~numbers.str.fullmatch(pattern)])[:3])
    assert seen_states == states  # the fixture has both: written in the value cell itself
    population = frame[f"Population ({model.population_label})"]
    assert population.str.fullmatch(r"\d+").all()
    book = openpyxl.load_workbook(io.BytesIO(export_bytes(model, "", "xlsx")[0]))
    assert book.sheetnames == ["Communes", "Sources"]
    assert book["Communes"]["A1"].value.startswith("Données fictives — Communes — département 66")
    listed = [row[0].value for row in book["Sources"].iter_rows(min_row=5)]
    assert listed == [src.label for src in model.sources]


def test_url_sync_both_ways(app):
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def run(trigger, search, *controls):
        def call():
            context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{trigger}.value", "value": None}]))
            return callbacks.sync_url(search, *controls)

        with app.server.app_context():
            return copy_context().run(call)

    defaults = ("sous_dotation", "quantiles", 5, "", ["eaje", "france_services"], ["epci"], "", None)
    out = run(ids.URL, "?indicateur=taux_pauvrete&classes=jenks&n=4&couches=eaje,zrr&commune=66136", *defaults)
    # Controls already showing the linked value are left alone (no redraw cascade on page load).
    assert out[1:] == ("taux_pauvrete", "jenks", 4, no_update, ["eaje"], ["zrr"], no_update, "66136")
    out = run(ids.URL, "", *defaults)
    assert [v for v in out if v is not no_update] == []
    out = run(ids.EPCI_DROPDOWN, "", "eaje_places", "egaux", 3, "", ["eaje"], [], "200027183", None)
    assert out[0] == "?indicateur=eaje_places&classes=egaux&n=3&couches=eaje&epci=200027183"


def test_selection_patch_outlines_one_commune(app_context, model):
    from dashboard.map.callbacks import update_map_selection

    ops = {op["location"][-1]: op["params"]["value"] for op in _operations(update_map_selection("66136"))}
    assert ops == {"locations": ["66136"], "z": [0]}
    ops = {op["location"][-1]: op["params"]["value"] for op in _operations(update_map_selection(None))}
    assert ops == {"locations": [], "z": []}


def test_ctg_status_follows_the_commune_row_then_its_epci():
    import geopandas as gpd
    import pandas as pd

    from dashboard.core.model import ctg_status_by_commune

    communes = gpd.GeoDataFrame({"code": ["66001", "66002", "66003"], "epci_code": ["E1", "E1", "E2"]})
    ctg = pd.DataFrame({"niveau": ["epci", "commune"], "code": ["E1", "66002"], "statut": ["signée", "en cours"]})
    assert ctg_status_by_commune(ctg, communes) == {"66001": "signée", "66002": "en cours", "66003": "inconnu"}
    assert ctg_status_by_commune(None, communes) == {}


def test_under_served_hover_also_gives_the_bonus_per_new_place(bundle_66_demo):
    from dashboard.core.model import build_model
    from dashboard.map.figures import hovertemplate
    from geodata.settings import Settings
    from indicators.compute import compute_indicators
    from indicators.registry import REGISTRY

    real = build_model(bundle_66_demo, compute_indicators(bundle_66_demo), REGISTRY, Settings())
    columns = list(real.columns)
    template = hovertemplate(real, "sous_dotation")
    assert f"%{{customdata[{columns.index('sous_dotation')}]}}" in template
    assert f"Bonus territoire : %{{customdata[{columns.index('bonus_statut')}]}}" in template
    assert "Bonus territoire" not in hovertemplate(real, "population")
    # The bonus column's hover text is the one sentence every view uses.
    prades = real.codes.index("66149")
    bonus = real.indicators.bonus()
    assert real.columns["bonus_statut"].display[prades] == bonus.at["66149", "resume"]
    assert real.columns["bonus_statut"].values[prades] == bonus.at["66149", "statut"]


def test_national_scale_sends_commune_lists_on_demand(model, monkeypatch):
    import dashboard.core.model as model_module
    from dashboard.map.controls import commune_options
    from dashboard.map.figures import FULL_OPACITY, commune_opacity
    from dashboard.map.table import table_rows

    assert not model.large
    assert len(commune_options(model)) == len(model.codes)  # a département: every commune from the start
    monkeypatch.setattr(model_module, "LARGE_TERRITORY", 100)  # the same communes seen as a national bundle
    assert model.large
    assert commune_options(model, "") == []
    assert [o["value"] for o in commune_options(model, "perpi")] == ["66136"]
    assert [o["value"] for o in commune_options(model, "66136")] == ["66136"]
    assert [o["value"] for o in commune_options(model, "", selected="66149")] == ["66149"]
    assert table_rows(model, "population", "") == []
    assert commune_opacity(model, model.epci_codes[0]) == FULL_OPACITY  # zoom only: no 35 000-value opacity array
    epci = model.epci_codes[0]
    assert len(table_rows(model, "population", epci)) == model.epci_codes.count(epci)


def _fired_by(app, trigger: str, fn, *args):
    """Call a callback as Dash does when only ``trigger`` changed."""
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def call():
        context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{trigger}.value", "value": None}]))
        return fn(*args)

    with app.server.app_context():
        return copy_context().run(call)


def test_an_epci_change_sends_the_legend_counts_only(app, model):
    epci = model.epci_codes[0]
    out = _fired_by(app, ids.EPCI_DROPDOWN, update_legend, "eaje_places", "quantiles", 5, "", epci)
    legend, definition, error = out
    assert definition is no_update and error is no_update
    operations = _operations(legend)
    assert {tuple(op["location"]) for op in operations} == {("props", "children", i) for i in callbacks.LEGEND_COUNTS}
    scope = next(op for op in operations if op["location"][-1] == 3)["params"]["value"]
    assert f"({plural(model.epci_codes.count(epci), 'commune')})" in _text(scope)
    # The indicator changed (alone or with the EPCI): the whole legend and its definition.
    legend, definition, _ = _fired_by(app, ids.INDICATOR_DROPDOWN, update_legend, "eaje_places", "quantiles", 5, "", "")
    assert _text(legend).startswith("Places en EAJE") and definition == "Places agréées."


def test_table_columns_follow_the_indicator_and_summary_the_epci(app, model):
    epci = model.epci_codes[0]
    rows, columns, summary = _fired_by(app, ids.EPCI_DROPDOWN, update_table, "eaje_places", epci)
    assert len(rows) == model.epci_codes.count(epci)
    assert columns is no_update and summary is not no_update
    rows, columns, summary = _fired_by(app, ids.INDICATOR_DROPDOWN, update_table, "taux_pauvrete", epci)
    assert len(rows) == model.epci_codes.count(epci)
    assert columns is not no_update and summary is no_update


def test_the_commune_card_hint_is_not_sent_again_for_an_indicator_change(app):
    assert _fired_by(app, ids.INDICATOR_DROPDOWN, update_commune_card, None, "eaje_places") is no_update
    assert _text(_fired_by(app, ids.INDICATOR_DROPDOWN, update_commune_card, "66136", "eaje_places")).count("Perpignan")
    assert _text(_fired_by(app, ids.COMMUNE_DROPDOWN, update_commune_card, None, "eaje_places")).startswith("Cliquez")
