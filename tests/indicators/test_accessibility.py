"""Accessibility (E2SFCA, Luo & Qi 2009): the method on hand-computed territories, then inside the indicators.

Hand computations are written next to each assertion; the method is in ``indicators/accessibility.py`` and
``docs/diagnostic.md``.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from indicators.accessibility import e2sfca, step_weights
from indicators.compute import compute_indicators
from indicators.export import write_indicator_csv
from indicators.params import PARAMS_FILE, load_params
from tests.indicators.conftest import EPCI_A, EPCI_B, make_bundle

STEPS = [(5000.0, 1.0), (10000.0, 0.5)]
"""Two steps for the hand computations: full weight up to 5 km, half up to 10 km, nothing beyond."""

# Three villages on a line (metres) and two crèches: 10 places at the first village, 6 far to the east.
DEMAND_XY = np.array([[0.0, 0.0], [4000.0, 0.0], [12000.0, 0.0]])
DEMAND = np.array([100.0, 50.0, 20.0])
SUPPLY_XY = np.array([[0.0, 0.0], [20000.0, 0.0]])
SUPPLY = np.array([10.0, 6.0])


def test_step_weights_bounds_are_inclusive():
    d = np.array([0.0, 5000.0, 5000.1, 10000.0, 10000.1, 1e9])
    assert step_weights(d, STEPS).tolist() == [1.0, 1.0, 0.5, 0.5, 0.0, 0.0]


def test_e2sfca_by_hand_straight_line():
    r = e2sfca(DEMAND_XY, DEMAND, SUPPLY_XY, SUPPLY, STEPS, detour=1.0)
    # Crèche 1 at x=0 reaches villages at 0 and 4 km (weight 1), not the one at 12 km: R1 = 10 / (100 + 50).
    # Crèche 2 at x=20 km reaches only the village at 8 km (weight 0,5): R2 = 6 / (0,5 × 20) = 0,6.
    assert r.ratio == pytest.approx([10 / 150, 0.6])
    # A = Σ w × R: the two western villages share crèche 1; the eastern one gets half of crèche 2's ratio.
    assert r.access == pytest.approx([10 / 150, 10 / 150, 0.5 * 0.6])
    # Every place reached by some demand is shared out exactly once: Σ demand × A = Σ places.
    assert float(DEMAND @ r.access) == pytest.approx(16.0)
    assert r.pairs == 3


def test_e2sfca_by_hand_with_detour():
    r = e2sfca(DEMAND_XY, DEMAND, SUPPLY_XY, SUPPLY, STEPS, detour=1.3)
    # × 1,3: the 4 km village is now 5,2 km away (weight 0,5), the 8 km one 10,4 km (out of reach).
    # R1 = 10 / (100 + 0,5 × 50) = 0,08 ; crèche 2 has no demand within reach: its 6 places are not shared out.
    assert r.ratio[0] == pytest.approx(0.08)
    assert math.isnan(r.ratio[1])
    assert r.access == pytest.approx([0.08, 0.04, 0.0])


def test_e2sfca_edge_cases():
    assert e2sfca(DEMAND_XY, DEMAND, np.empty((0, 2)), np.empty(0), STEPS).access.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="longueurs"):
        e2sfca(DEMAND_XY, DEMAND[:2], SUPPLY_XY, SUPPLY, STEPS)


def test_parameters_are_checked(tmp_path):
    bad = tmp_path / "p.toml"
    source = PARAMS_FILE.read_text(encoding="utf-8")
    bad.write_text(source.replace("[[5.0, 1.0], [10.0, 0.6], [15.0, 0.2]]", "[[10.0, 1.0], [5.0, 0.6]]"), "utf-8")
    with pytest.raises(ValueError, match="paliers_km"):
        load_params(bad)
    bad.write_text(source.replace("facteur_detour = 1.3", "facteur_detour = 0.8"), "utf-8")
    with pytest.raises(ValueError, match="facteur_detour"):
        load_params(bad)


# --- inside the indicators: the six-commune fixture (tests/indicators/conftest.py) ---------------------------------
# Town halls 0,1° apart: east-west 10,7 km and north-south 14,5 km once × 1,3 (weight 0,2 with the default steps),
# diagonals 18 km (out of reach). EAJE: 60 places in Alpha 66001, 12 in Beta 66002, 10 in Epsilon 66005.
# Children under 3: 400, 100, 20, 30, 200, 5.
#   R(Alpha)   = 60 / (400 + 0,2 × 100 + 0,2 × 30)            = 60 / 426
#   R(Beta)    = 12 / (100 + 0,2 × 400 + 0,2 × 20 + 0,2 × 200) = 12 / 224
#   R(Epsilon) = 10 / (200 + 0,2 × 100 + 0,2 × 30)            = 10 / 226
EXPECTED = {
    "66001": 100 * (60 / 426 + 0.2 * 12 / 224),
    "66002": 100 * (0.2 * 60 / 426 + 12 / 224 + 0.2 * 10 / 226),
    "66003": 100 * (0.2 * 12 / 224),
    "66004": 100 * (0.2 * 60 / 426 + 0.2 * 10 / 226),
    "66005": 100 * (0.2 * 12 / 224 + 10 / 226),
    "66006": 0.0,
}


def test_fixture_accessibility_by_hand(ind):
    v = ind.commune.values
    for code, expected in EXPECTED.items():
        assert v.at[code, "acces_eaje"] == pytest.approx(expected), code
    assert (ind.commune.states["acces_eaje_hab"] == "nd").all()
    # The département level is the demand-weighted mean: 82 places / 755 children × 100.
    assert ind.departement.values.at["66", "acces_eaje"] == pytest.approx(100 * 82 / 755)
    assert ind.access["eaje"].reference.iloc[0] == pytest.approx(100 * 82 / 755)
    # EPCI: Σ A × children / Σ children.
    a = {c: EXPECTED[c] for c in EXPECTED}
    epci_a = (400 * a["66001"] + 100 * a["66002"] + 20 * a["66003"]) / 520
    assert ind.epci.values.at[EPCI_A, "acces_eaje"] == pytest.approx(epci_a)
    assert ind.epci.states.at[EPCI_B, "acces_eaje"] == "valeur"


def test_separates_the_creche_town_from_its_remote_hamlet(ind):
    v = ind.commune.values
    # EPCI A: the crèche town Alpha (15,2) vs Gamma, which only reaches Beta's crèche at 10-15 km (1,1).
    assert v.at["66001", "acces_eaje"] > 10 * v.at["66003", "acces_eaje"]
    # EPCI B: Zeta, 24 km from Epsilon's crèche, reaches no place at all — a true 0, not « non disponible ».
    assert (v.at["66006", "acces_eaje"], ind.commune.states.at["66006", "acces_eaje"]) == (0.0, "valeur")
    assert v.at["66005", "acces_eaje"] > 0


def test_parameters_travel_with_the_result(ind, tmp_path):
    rule = ind.rules["acces_eaje"]
    assert "E2SFCA (Luo & Qi 2009)" in rule
    assert "× 1,3 (détour)" in rule and "zone de chalandise 15 km" in rule
    assert "0–5 km : 1, 5–10 km : 0,6, 10–15 km : 0,2" in rule
    assert "niveau du département : 10,9 places pour 100 enfants de moins de 3 ans" in rule
    path = tmp_path / "communes.csv"
    write_indicator_csv(ind, "commune", path)
    sidecar = json.loads((tmp_path / "communes.parametres.json").read_text(encoding="utf-8"))
    assert sidecar["parametres"]["paliers_km"] == [[5.0, 1.0], [10.0, 0.6], [15.0, 0.2]]
    assert sidecar["parametres"]["facteur_detour"] == 1.3
    assert sidecar["methodes"]["acces_eaje"] == rule


def test_other_parameters_change_the_result():
    params = dataclasses.replace(load_params(), paliers_km=((20.0, 1.0),), facteur_detour=1.0)
    v = compute_indicators(make_bundle(), params).commune.values
    # One 20 km step, straight lines: the five western town halls are all within 19,9 km of each other, so every
    # crèche is shared by all their children (750) with weight 1: A = 82 / 750 × 100 for each; Zeta stays at 0.
    for code in ("66001", "66002", "66003", "66004", "66005"):
        assert v.at[code, "acces_eaje"] == pytest.approx(100 * 82 / 750)
    assert v.at["66006", "acces_eaje"] == 0.0


def test_population_proxy_when_no_children_count():
    result = compute_indicators(make_bundle(drop=("pop_age",)))
    v, s = result.commune.values, result.commune.states
    assert (s["acces_eaje"] == "nd").all()
    assert "population" in result.commune.notes.at["66001", "acces_eaje"]
    # Same weights, population as demand: R(Alpha) = 60 / (12 000 + 0,2 × 3 000 + 0,2 × 800), per 1 000 inhabitants.
    r_alpha = 60 / (12000 + 0.2 * 3000 + 0.2 * 800)
    r_beta = 12 / (3000 + 0.2 * 12000 + 0.2 * 500 + 0.2 * 5000)
    assert v.at["66001", "acces_eaje_hab"] == pytest.approx(1000 * (r_alpha + 0.2 * r_beta))
    assert result.commune.notes.at["66001", "acces_eaje_hab"] == "demande : population (faute de nombre d'enfants)"
    acc = result.access["eaje"]
    assert acc.proxy and acc.unit == "places pour 1 000 habitants (population, faute de nombre d'enfants)"
    assert "demande = population, faute de nombre d'enfants" in result.rules["acces_eaje_hab"]
    assert result.departement.values.at["66", "acces_eaje_hab"] == pytest.approx(1000 * 82 / 21500)


def test_caf_children_covered_when_no_insee_count():
    demande = pd.DataFrame(
        {
            "code_commune": ["66001", "66002", "66003", "66004", "66005", "66006"],
            "enfants_0_2": [380.0, 90.0, 18.0, 28.0, 190.0, 4.0],
            "enfants_3_10": [1200.0, 300.0, 60.0, 90.0, 600.0, 18.0],
            "taux_couverture": [np.nan, 48.0, np.nan, np.nan, np.nan, np.nan],
        }
    )
    result = compute_indicators(make_bundle(drop=("pop_age",), replace={"caf_demande": demande}))
    v, notes = result.commune.values, result.commune.notes
    assert (result.commune.states["acces_eaje"] == "valeur").all()
    assert v.at["66001", "pop_moins3"] == 380.0
    assert notes.at["66001", "pop_moins3"] == "enfants couverts par la Caf (extrait)"
    assert v.at["66001", "eaje_places_100_moins3"] == pytest.approx(100 * 60 / 380)
    assert notes.at["66001", "eaje_places_100_moins3"] == "enfants couverts par la Caf (extrait)"
    assert "enfants de moins de 3 ans : enfants couverts par la Caf (extrait)" in result.rules["acces_eaje"]
    assert result.departement.values.at["66", "acces_eaje"] == pytest.approx(100 * 82 / 710)
    # The extract's commune rate beats the EPCI rate: Beta is judged by the CNAF rule on 48 %.
    assert (v.at["66002", "txcouv_global"], notes.at["66002", "txcouv_global"]) == (
        48.0,
        "taux communal de l'extrait Caf",
    )
    assert v.at["66002", "sous_dotation_motif"] == "taux de couverture 48,0 < France 60,9 ; hors zone prioritaire"


def test_absent_layer_is_nd():
    result = compute_indicators(make_bundle(drop=("caf_eaje",)))
    assert (result.commune.states["acces_eaje"] == "nd").all()
    assert result.commune.notes.at["66001", "acces_eaje"] == "extrait CAF des EAJE absent"
    assert "eaje" not in result.access
