"""« Communes à cibler » on the six-commune fixture, every figure by hand (see test_accessibility.py for A)."""

from __future__ import annotations

import json
import math

import pytest

from indicators.compute import compute_indicators
from indicators.targets import RANK_CHILDREN, RANK_PLACES, TargetFilter, compute_targets, targets_csv, write_targets_csv
from tests.indicators.conftest import EPCI_A, make_bundle

REF = 100 * 82 / 755  # département level, places per 100 children
A3 = 100 * 0.2 * 12 / 224  # Gamma 66003
A4 = 100 * (0.2 * 60 / 426 + 0.2 * 10 / 226)  # Delta 66004


@pytest.fixture(scope="module")
def fallback():
    """Without CNAF rates every level comes from the accessibility rule: P1 = Gamma and Delta (ZRR, under half)."""
    return compute_indicators(make_bundle(drop=("caf_txcouv",)))


def test_default_filter_ranks_by_children_without_a_reachable_place(fallback):
    t = compute_targets(fallback)
    assert t.ranked_by == RANK_CHILDREN
    table = t.table
    assert table["code"].tolist() == ["66004", "66003"]
    assert table["rang"].tolist() == [1, 2]
    delta, gamma = table.iloc[0], table.iloc[1]
    # children × (1 − A / 100): Delta 30 × (1 − 0,037) = 28,9 ; Gamma 20 × (1 − 0,011) = 19,8
    assert delta["enfants_sans_place"] == pytest.approx(30 * (1 - A4 / 100))
    assert gamma["enfants_sans_place"] == pytest.approx(20 * (1 - A3 / 100))
    # places to reach the département level, rounded up: 30 × (10,86 − 3,70) / 100 = 2,15 → 3 ; 20 × 9,79 / 100 → 2
    assert (delta["places_a_creer"], gamma["places_a_creer"]) == (3.0, 2.0)
    assert delta["niveau"] == "P1" and "ZRR 2017" in delta["motif"]
    assert (delta["bonus_statut"], delta["bonus_place"], delta["bonus_annuel"]) == ("applicable", 3600.0, 10800.0)
    assert gamma["bonus"] == "si CTG signée : 3 600 € par place nouvelle et par an (T1)"
    assert delta["reference"] == pytest.approx(REF)


def test_filters_level_status_epci(fallback):
    only_a = compute_targets(fallback, TargetFilter(("P1", "P2"), ("applicable", "si CTG signée"), 1.0, EPCI_A))
    assert only_a.table["code"].tolist() == ["66003"]
    signed = compute_targets(fallback, TargetFilter(("P1",), ("applicable",), 1.0))
    assert signed.table["code"].tolist() == ["66004"]
    # P3 too: Beta (83 % of the level), Epsilon (51 %) and Zeta (0) join; Zeta's amount is to confirm: no total.
    wide = compute_targets(
        fallback, TargetFilter(("P1", "P3 vigilance"), ("applicable", "si CTG signée", "à confirmer"))
    )
    assert set(wide.table["code"]) == {"66002", "66003", "66004", "66005", "66006"}
    zeta = wide.table.set_index("code").loc["66006"]
    assert zeta["acces"] == 0.0 and zeta["enfants_sans_place"] == 5.0
    assert math.isnan(zeta["bonus_annuel"])
    # Accessibility ceiling: at most half of the département level keeps Gamma, Delta and Zeta only.
    low = compute_targets(
        fallback, TargetFilter(("P1", "P3 vigilance"), ("applicable", "si CTG signée", "à confirmer"), 0.5)
    )
    assert set(low.table["code"]) == {"66003", "66004", "66006"}


def test_population_proxy_ranks_by_places_to_create():
    ind = compute_indicators(make_bundle(drop=("caf_txcouv", "pop_age")))
    t = compute_targets(ind)
    assert t.ranked_by == RANK_PLACES
    assert t.table["enfants_sans_place"].isna().all()
    # places = population × (reference − A) / 1 000, rounded up, and the list is ranked by them.
    acc = ind.access["eaje"]
    for row in t.table.itertuples():
        expected = math.ceil(acc.demand[row.code] * (acc.reference[row.code] - acc.access[row.code]) / 1000)
        assert row.places_a_creer == expected
    assert t.table["places_a_creer"].is_monotonic_decreasing


def test_without_eaje_the_list_is_empty_and_says_why():
    t = compute_targets(compute_indicators(make_bundle(drop=("caf_eaje",))))
    assert t.table.empty
    assert t.reason == "accessibilité non calculable : extrait Caf des EAJE absent"


def test_csv_is_formula_safe_and_flags_fictitious_data(fallback, tmp_path):
    filt = TargetFilter(("P3 vigilance",), ("à confirmer",))
    t = compute_targets(fallback, filt)
    assert "66006" in set(t.table["code"])  # « =Zeta »
    text = targets_csv(t, synthetic=True)
    assert text.startswith("\ufeff# Données fictives")
    lines = [line for line in text.lstrip("\ufeff").splitlines() if not line.startswith("#")]
    assert lines[0].startswith("Rang;Code commune;Commune;EPCI;Niveau de sous-dotation;Motif;")
    assert lines[0].endswith(";Avertissement")
    assert all(line.endswith(";Données fictives") for line in lines[1:])
    assert ";'=Zeta;" in text and ";=Zeta;" not in text
    path = tmp_path / "cibles.csv"
    write_targets_csv(fallback, t, filt, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    sidecar = json.loads((tmp_path / "cibles.parametres.json").read_text(encoding="utf-8"))
    assert sidecar["filtre"]["niveaux"] == ["P3 vigilance"]
    assert sidecar["classement"] == RANK_CHILDREN
    assert "E2SFCA" in sidecar["accessibilite"]
    assert sidecar["donnees_fictives"] is True
    assert "Avertissement" not in targets_csv(t, synthetic=False)
    assert "fictive" not in targets_csv(t, synthetic=False)
