"""The « N new places » simulator: every figure recomputed by hand from the layers and the parameters."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.cli.report import simulation_text
from geodata.numbers import format_euros as fr_euros
from geodata.numbers import format_number as fr_number
from indicators.compute import compute_indicators
from indicators.simulate import load_sim_params, simulate
from tests.indicators.conftest import EPCI_A, make_bundle

PERPIGNAN, SAINT_CYPRIEN, PRADES = "66136", "66171", "66149"


@pytest.fixture(scope="module")
def demo(bundle_66_demo):
    return bundle_66_demo, compute_indicators(bundle_66_demo)


@pytest.fixture(scope="module")
def sp():
    return load_sim_params()


def _places(bundle, codes: set[str]) -> float:
    eaje = bundle.layer("caf_eaje")
    return float(pd.to_numeric(eaje.loc[eaje["code_commune"].isin(codes), "places"]).sum())


def _children(bundle, codes: set[str]) -> float:
    """Children under 3 of the demo « demande » extract (fictitious enfants couverts)."""
    d = bundle.layer("caf_demande")
    return float(d.loc[d["code_commune"].isin(codes), "enfants_0_2"].sum())


def _psu_per_place(sp) -> float:
    return sp.heures_par_place_an * (min(sp.cout_horaire, sp.plafond_horaire) * sp.taux_psu - sp.participation_horaire)


def test_qpv_commune_perpignan_by_hand(demo, sp):
    bundle, ind = demo
    n = 40
    sim = simulate(ind, bundle, PERPIGNAN, n)
    communes = bundle.communes
    epci_code = communes.loc[communes["code"] == PERPIGNAN, "epci_code"].iloc[0]
    members = set(communes.loc[communes["epci_code"] == epci_code, "code"])
    # no Insee population by age: the children of the demo « demande » extract (enfants couverts)
    assert sim.unite == "pour 100 enfants de moins de 3 ans"
    com, epci, dep = sim.ratios
    p, kids = _places(bundle, {PERPIGNAN}), _children(bundle, {PERPIGNAN})
    assert (com.places_avant, com.places_apres) == (p, p + n)
    assert com.avant == pytest.approx(100 * p / kids)
    assert com.apres == pytest.approx(100 * (p + n) / kids)
    pe, kidse = _places(bundle, members), _children(bundle, members)
    assert epci.code == epci_code
    assert epci.apres == pytest.approx(100 * (pe + n) / kidse)
    pd_, kidsd = _places(bundle, set(communes["code"])), _children(bundle, set(communes["code"]))
    assert dep.avant == pytest.approx(100 * pd_ / kidsd)
    assert dep.apres == pytest.approx(100 * (pd_ + n) / kidsd)
    # Perpignan has QPV → tranche 1; the Ville de Perpignan signed its own CTG (27/02/2025, kept in the demo) while
    # its EPCI's is « en cours »: the bonus applies.
    t1 = ind.params.bareme.tranche("zone_prioritaire")
    assert sim.bonus.tranche == t1.id == "T1"
    assert sim.bonus.statut == "applicable"
    assert sim.bonus.total == n * t1.montant == n * 3600.0
    assert sim.psu.total == pytest.approx(n * _psu_per_place(sp))
    assert sim.psu.total == pytest.approx(n * 1760 * (10.05 * 0.66 - 1.50))
    assert sim.investissement.total_min == n * 7400.0
    assert sim.investissement.total_max == n * 26000.0
    # No CNAF file, but the demo extract gives Perpignan a commune rate: bumped by the new places per 100 children.
    (cov,) = sim.couverture
    rate = float(bundle.layer("caf_demande").set_index("code_commune").at[PERPIGNAN, "taux_couverture"])
    assert (cov.avant, cov.apres) == (pytest.approx(rate), pytest.approx(rate + 100 * n / kids))
    text = simulation_text(sim)
    assert "DONNÉES FICTIVES" in text
    assert fr_euros(n * 3600.0) in text
    assert fr_euros(round(n * _psu_per_place(sp))) in text
    assert f"{fr_number(com.avant)} → {fr_number(com.apres)}" in text


def test_non_qpv_commune_and_en_qpv_moves_to_t1(demo, sp):
    bundle, ind = demo
    n = 20
    plain = simulate(ind, bundle, SAINT_CYPRIEN, n)
    assert plain.bonus.tranche == "selon richesse"  # no QPV, no ZRR, potentiel financier absent
    assert math.isnan(plain.bonus.montant_place)
    assert (plain.bonus.total_min, plain.bonus.total_max) == (n * 2600.0, n * 3600.0)
    assert plain.bonus.a_confirmer
    qpv = simulate(ind, bundle, SAINT_CYPRIEN, n, en_qpv=True)
    assert qpv.bonus.tranche == "T1"
    assert qpv.bonus.montant_place == 3600.0
    assert qpv.bonus.total_max == n * 3600.0
    assert any("QPV" in a for a in qpv.assumptions)
    p, kids = _places(bundle, {SAINT_CYPRIEN}), _children(bundle, {SAINT_CYPRIEN})
    assert plain.ratios[0].apres == pytest.approx(100 * (p + n) / kids)


def test_applicable_bonus_is_counted_in_total(demo, sp):
    bundle, ind = demo
    n = 12
    sim = simulate(ind, bundle, PRADES, n)  # ZRR commune, CTG signed by its EPCI in the demo
    assert sim.bonus.statut == "applicable"
    assert sim.bonus.total == n * 3600.0
    assert sim.fonctionnement_total == pytest.approx(n * 3600.0 + n * _psu_per_place(sp))
    assert "43\u202f200\u00a0€" in simulation_text(sim)


def test_zero_places_changes_nothing(demo):
    bundle, ind = demo
    sim = simulate(ind, bundle, PRADES, 0)
    for r in sim.ratios:
        assert r.avant == r.apres
    assert sim.sous_dotation_avant == sim.sous_dotation_apres == ind.commune.values.at[PRADES, "sous_dotation"]
    assert sim.motif_avant == sim.motif_apres
    assert sim.autres_changements == ()
    assert sim.psu.total == sim.bonus.total == sim.investissement.total_max == 0.0


def test_coverage_and_underserved_level_rerun_on_the_modified_offer():
    """Fixture territory (tests/indicators/conftest.py): Alpha 66001 has a commune rate of 50 % for 400 children
    under 3, EPCI A 55 % for 520 children, département 57 % for 755; France 60,9 %, vigilance threshold 58 %."""
    bundle = make_bundle()
    ind = compute_indicators(bundle)
    small = simulate(ind, bundle, "66001", 20)
    com, epci, dep = small.couverture
    assert (com.avant, com.apres) == (50.0, pytest.approx(50.0 + 100 * 20 / 400))
    assert epci.code == EPCI_A
    assert epci.apres == pytest.approx(55.0 + 100 * 20 / 520)
    assert dep.apres == pytest.approx(57.0 + 100 * 20 / 755)
    assert small.unite == "pour 100 enfants de moins de 3 ans"
    assert small.ratios[0].apres == pytest.approx(100 * (60 + 20) / 400)  # 60 places before in Alpha
    assert (small.sous_dotation_avant, small.sous_dotation_apres) == ("P1", "P1")  # 55 < 60,9 and in a QPV
    big = simulate(ind, bundle, "66001", 60)  # 50 + 15 = 65 ≥ 60,9 and ≥ 58
    assert big.couverture[0].apres == pytest.approx(65.0)
    assert (big.sous_dotation_avant, big.sous_dotation_apres) == ("P1", "couvert")
    assert "65,0" in big.motif_apres
    # Beta (66002) borrows the EPCI rate: its rate after is the EPCI rate after
    beta = simulate(ind, bundle, "66002", 26)
    assert beta.couverture[0].apres == pytest.approx(55.0 + 100 * 26 / 520) == beta.couverture[1].apres
    assert "taux de l'EPCI" in beta.couverture[0].note


def test_en_qpv_false_recomputes_the_tranche_without_the_qpv():
    bundle = make_bundle()
    ind = compute_indicators(bundle)
    assert ind.bonus().at["66001", "tranche"] == "T1"  # Alpha contains a QPV
    sim = simulate(ind, bundle, "66001", 10, en_qpv=False)
    # without the QPV: PF 900 < 978 and niveau de vie 19 000 < 23 000 → tranche 2 (both under the references), an
    # unconfirmed barème line: the range, not a figure
    assert sim.bonus.tranche == "T2"
    assert math.isnan(sim.bonus.montant_place)
    assert (sim.bonus.montant_min_place, sim.bonus.montant_max_place) == (2600.0, 3600.0)
    assert sim.bonus.statut == "à confirmer" and sim.bonus.a_confirmer


def test_inputs_are_checked(demo):
    bundle, ind = demo
    with pytest.raises(ValueError, match="absente"):
        simulate(ind, bundle, "99999", 10)
    with pytest.raises(ValueError, match="négatif"):
        simulate(ind, bundle, PRADES, -1)
    with pytest.raises(ValueError, match="antérieure"):
        simulate(ind, bundle, PRADES, 10, annee=2019)


def test_french_number_format():
    assert fr_number(1234.5) == "1\u202f234,5"
    assert fr_euros(1234567) == "1\u202f234\u202f567\u00a0€"
    assert fr_number(float("nan")) == "n.d."
