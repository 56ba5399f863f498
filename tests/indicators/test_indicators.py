"""Indicators on the tiny synthetic bundle (see conftest): every expectation computed by hand."""

from __future__ import annotations

import dataclasses
import json
import math

import pandas as pd
import pytest

from indicators.compute import compute_indicators
from indicators.export import indicator_table, neutralise, write_indicator_csv
from indicators.params import load_params
from indicators.registry import REGISTRY
from tests.indicators.conftest import EPCI_A, EPCI_B, hall, km_between, make_bundle

DASHBOARD_IDS = [
    "population",
    "eaje_places",
    "eaje_places_100_moins3",
    "distance_eaje_km",
    "distance_france_services_km",
    "med_niveau_vie",
    "taux_pauvrete",
    "bonus_montant",
    "sous_dotation",
    "france_services_nb",
    "qpv",
    "frr_classement",
    "zrr_classee",
]


def cell(result, code, key):
    return result.values.at[code, key], result.states.at[code, key], result.notes.at[code, key]


def test_registry_has_dashboard_ids_and_all_columns(ind):
    for key in DASHBOARD_IDS:
        assert key in REGISTRY
    assert REGISTRY["sous_dotation"].categories == ("P1", "P2", "P3 vigilance", "couvert")
    for level in ("commune", "epci", "departement", "france"):
        result = ind.level(level)
        assert list(result.values.columns) == list(REGISTRY)
        assert result.states.isin(["valeur", "secret", "nd"]).all().all()
    assert ind.commune.values.index.tolist() == ["66001", "66002", "66003", "66004", "66005", "66006"]


def test_offer_counts_and_psu_split(ind):
    v = ind.commune.values
    assert v.loc["66001", ["eaje_nb", "eaje_places", "eaje_places_psu"]].tolist() == [2, 60, 60]
    assert v.loc["66005", ["eaje_places_hors_psu", "micro_creche_paje_nb", "micro_creche_paje_places"]].tolist() == [
        10,
        1,
        10,
    ]
    assert v.at["66001", "centres_sociaux_nb"] == 1
    assert v.at["66004", "evs_nb"] == 1
    assert v.at["66001", "eaje_places_100_moins3"] == pytest.approx(15.0)
    assert v.at["66005", "eaje_places_1000_hab"] == pytest.approx(2.0)
    assert v.at["66001", "pop_3_10"] == 1300


def test_commune_without_structure_is_true_zero(ind):
    assert cell(ind.commune, "66003", "eaje_nb")[:2] == (0.0, "valeur")
    assert cell(ind.commune, "66003", "france_services_nb")[:2] == (0.0, "valeur")
    value, state, _ = cell(ind.commune, "66003", "distance_eaje_km")
    assert state == "valeur"
    assert value == pytest.approx(km_between(hall("66003"), hall("66002")), rel=0.01)


def test_empty_layer_counts_zero_distances_nd(ind):
    assert (ind.commune.values["alsh_nb"] == 0).all()
    assert (ind.commune.states["alsh_nb"] == "valeur").all()
    assert (ind.commune.states["distance_alsh_km"] == "nd").all()
    assert ind.commune.values["distance_alsh_km"].isna().all()
    assert ind.commune.notes.at["66001", "distance_alsh_km"] == "aucune structure dans la couche"
    assert "distance_alsh_km" not in ind.available
    assert "alsh_nb" in ind.available


def test_absent_layer_is_nd_never_zero(ind):
    # No BPE in the fixture.
    assert (ind.commune.states["laep_nb"] == "nd").all()
    assert ind.commune.values["laep_nb"].isna().all()
    assert "laep_nb" not in ind.available
    no_eaje = compute_indicators(make_bundle(drop=("caf_eaje", "pop_age")))
    assert (no_eaje.commune.states["eaje_places"] == "nd").all()
    assert (no_eaje.epci.states["eaje_places"] == "nd").all()
    assert no_eaje.epci.notes.at[EPCI_A, "eaje_places"] == "extrait CAF des EAJE absent"


def test_places_per_child_without_population_by_age():
    result = compute_indicators(make_bundle(drop=("pop_age",)))
    assert (result.commune.states["eaje_places_100_moins3"] == "nd").all()
    assert result.commune.notes.at["66001", "eaje_places_100_moins3"] == "population par âge absente"
    assert result.commune.states.at["66001", "eaje_places"] == "valeur"


def test_distances_in_lambert93(ind):
    v = ind.commune.values
    assert v.at["66001", "distance_eaje_km"] == 0.0
    expected = km_between(hall("66001"), hall("66005"))  # ≈ 13,8 km
    assert v.at["66001", "distance_france_services_km"] == pytest.approx(expected, rel=0.01)
    far = km_between(hall("66006"), hall("66005"))  # ≈ 24,5 km > 20 km
    assert v.at["66006", "distance_france_services_km"] == pytest.approx(far, rel=0.01)
    assert v.at["66006", "part_pop_loin_france_services"] == 100.0
    assert v.at["66003", "part_pop_loin_france_services"] == 0.0
    # Population-weighted share beyond 20 km: 200 / 21 500 (département), 200 / 6 000 (EPCI B).
    assert ind.departement.values.at["66", "part_pop_loin_france_services"] == pytest.approx(100 * 200 / 21500)
    assert ind.epci.values.at[EPCI_B, "part_pop_loin_france_services"] == pytest.approx(100 * 200 / 6000)


def test_caf_accueil_falls_back_to_annuaire_2016(ind):
    assert cell(ind.commune, "66001", "caf_accueils_nb") == (1.0, "valeur", "annuaire 2016")
    assert ind.commune.values.at["66004", "caf_accueils_nb"] == 0  # the CPAM row is not a CAF
    assert ind.commune.notes.at["66004", "distance_caf_km"] == "annuaire 2016"


def test_coverage_rates_epci_fallback_flagged(ind):
    assert cell(ind.commune, "66001", "txcouv_global") == (50.0, "valeur", "")
    assert cell(ind.commune, "66002", "txcouv_global") == (55.0, "valeur", "taux de l'EPCI")
    assert ind.epci.values.at[EPCI_B, "txcouv_eaje"] == 25.0
    assert ind.departement.values.at["66", "txcouv_global"] == 57.0  # published, not recomputed
    assert ind.france.values.at["FR", "txcouv_global"] == 60.9
    assert ind.commune.values.at["66004", "ecart_txcouv_global_france"] == pytest.approx(-4.1)


def test_aggregation_ratio_of_sums_not_mean_of_ratios(ind):
    # EPCI A: (60 + 12 + 0) / (400 + 100 + 20) × 100 = 13,85 ; mean of commune ratios would be (15 + 12 + 0) / 3 = 9.
    value = ind.epci.values.at[EPCI_A, "eaje_places_100_moins3"]
    assert value == pytest.approx(7200 / 520)
    assert value != pytest.approx(ind.commune.values.loc[["66001", "66002", "66003"], "eaje_places_100_moins3"].mean())
    assert ind.departement.values.at["66", "eaje_places_100_moins3"] == pytest.approx(8200 / 755)
    assert ind.epci.values.at[EPCI_A, "eaje_places"] == 72
    assert ind.departement.values.at["66", "population"] == 21500
    assert ind.epci.values.at[EPCI_A, "qpv_part_pop"] == pytest.approx(100 * 3000 / 15500)
    # Potentiel financier: Σ PF / Σ population DGF.
    pf = (900 * 12500 + 1200 * 3100 + 700 * 520) / (12500 + 3100 + 520)
    assert ind.epci.values.at[EPCI_A, "potentiel_financier_hab"] == pytest.approx(pf)
    assert ind.epci.states.at[EPCI_B, "potentiel_financier_hab"] == "nd"  # 66006 has no PF


def test_secret_income_stays_secret(ind):
    value, state, _ = cell(ind.commune, "66003", "med_niveau_vie")
    assert state == "secret"
    assert math.isnan(value)
    # EPCI A contains the secret commune: its poverty rate is secret, EPCI B's is Σ rate×persons / Σ persons.
    assert ind.epci.states.at[EPCI_A, "taux_pauvrete"] == "secret"
    assert ind.epci.values.at[EPCI_B, "taux_pauvrete"] == pytest.approx(61940 / 5870)
    assert ind.epci.states.at[EPCI_B, "med_niveau_vie"] == "nd"
    assert "médiane non agrégeable" in ind.epci.notes.at[EPCI_B, "med_niveau_vie"]


def test_epci_spanning_two_departements_flagged(ind):
    assert "EPCI partiel : communes du 66 seulement" in ind.epci.notes.at[EPCI_B, "population"]
    assert ind.epci.values.at[EPCI_B, "population"] == 6000
    assert "EPCI partiel" not in ind.epci.notes.at[EPCI_A, "population"]


def test_context_and_zonages(ind):
    v = ind.commune.values
    assert v.at["66001", "classe_population"] == "plus de 10 000"
    assert v.at["66002", "classe_population"] == "moins de 3 500"
    assert v.at["66005", "classe_population"] == "3 500 à 10 000"
    assert v.at["66001", "qpv"] == 1
    assert ind.commune.notes.at["66001", "qpv"] == "QPV 2024"
    assert v.at["66001", "qpv_part_pop"] == pytest.approx(25.0)
    assert v.at["66003", "zrr_classee"] == "classée"
    assert v.at["66002", "zrr_classee"] == "non classée"
    assert v.at["66003", "frr_classement"] == "FRR+"
    assert v.at["66003", "montagne"] == "Pyrénées"
    assert v.at["66001", "montagne"] == "hors montagne"
    assert ind.commune.states.at["66001", "densite_categorie"] == "nd"
    # 0.1° × 0.1° at 42.65° N ≈ 8,19 × 11,12 km.
    assert v.at["66001", "densite_hab_km2"] == pytest.approx(12000 / (8.19 * 11.12), rel=0.01)


def test_bonus_default_zrr(ind):
    b = ind.bonus()
    assert list(b.columns) == ["applicable", "tranche", "montant", "motif", "a_confirmer"]
    # QPV commune, CTG only « en cours »: tranche 1 but not applicable → 0 €.
    assert b.loc["66001", ["applicable", "tranche", "montant"]].tolist() == ["non", "T1", 0.0]
    assert "QPV" in b.at["66001", "motif"]
    # ZRR commune covered by its EPCI's signed CTG.
    assert b.loc["66004", ["applicable", "tranche", "montant", "a_confirmer"]].tolist() == ["oui", "T1", 3600.0, False]
    assert "EPCI" in b.at["66004", "motif"]
    # Commune CTG, rich: minimum tranche, intermediate rule à confirmer.
    assert b.loc["66002", ["applicable", "tranche", "montant", "a_confirmer"]].tolist() == ["oui", "T4", 2600.0, True]
    assert ind.commune.notes.at["66002", "bonus_montant"] == "à confirmer"
    # PF and niveau de vie under the references (unconfirmed intermediate tranche).
    assert b.loc["66005", ["tranche", "montant", "a_confirmer"]].tolist() == ["T2", 3267.0, True]
    # No potentiel financier: no guess, the range and « à confirmer ».
    assert b.at["66006", "tranche"] == "selon richesse"
    assert math.isnan(b.at["66006", "montant"])
    assert "potentiel financier absent" in b.at["66006", "motif"]
    assert "2 600 – 3 600 € selon richesse (à confirmer)" in b.at["66006", "motif"]
    assert ind.commune.states.at["66006", "bonus_montant"] == "nd"


def test_bonus_frr_setting_and_qpv_plus_frr():
    params = load_params()
    frr = compute_indicators(make_bundle(), dataclasses.replace(params, zonage_rural="frr2025")).bonus()
    assert frr.loc["66006", ["tranche", "montant", "a_confirmer"]].tolist() == ["T1", 3600.0, True]
    assert frr.loc["66004", ["tranche", "montant"]].tolist() == ["T2", 3267.0]  # ZRR no longer counts
    both = compute_indicators(make_bundle(), dataclasses.replace(params, zonage_rural="les_deux")).bonus()
    assert both.at["66001", "tranche"] == "T1"
    assert "QPV et FRR" in both.at["66001", "motif"]
    assert not both.at["66001", "a_confirmer"]


def test_bonus_without_ctg_layer():
    b = compute_indicators(make_bundle(drop=("caf_ctg",))).bonus()
    assert (b["applicable"] == "CTG inconnue").all()
    assert b.at["66004", "montant"] == 3600.0
    assert "liste des CTG absente" in b.at["66004", "motif"]


def test_underserved_with_coverage(ind):
    v = ind.commune.values
    assert v["sous_dotation"].tolist() == ["P1", "P3 vigilance", "P1", "couvert", "couvert", "couvert"]
    assert "QPV" in v.at["66001", "sous_dotation_motif"]
    assert "de l'EPCI 55,0 < France 60,9" in v.at["66002", "sous_dotation_motif"]
    assert ind.commune.notes.at["66002", "sous_dotation"] == "taux de l'EPCI"


def test_underserved_p2_and_threshold_branch():
    layers = make_bundle().layers
    tx = layers["caf_txcouv"].copy()
    tx.loc[tx["code"] == EPCI_B, "txcouv"] = 56.0
    v = compute_indicators(make_bundle(replace={"caf_txcouv": tx})).commune.values
    assert v.loc[["66004", "66005", "66006"], "sous_dotation"].tolist() == ["P1", "P2", "P3 vigilance"]
    assert "P1/P2 non évaluables" in v.at["66006", "sous_dotation_motif"]
    # France reference below the local rate but rate under 58 → vigilance by the plan-rebond threshold.
    params = dataclasses.replace(load_params(), tx_global_france=52.0)
    tx2 = layers["caf_txcouv"][layers["caf_txcouv"]["niveau"] != "nat"]
    result = compute_indicators(make_bundle(replace={"caf_txcouv": tx2}), params)
    assert result.commune.values.at["66002", "sous_dotation"] == "P3 vigilance"
    assert "< seuil 58,0" in result.commune.values.at["66002", "sous_dotation_motif"]
    assert "paramétrée" in result.france.notes.at["FR", "txcouv_global"]


def test_underserved_fallback_without_coverage():
    result = compute_indicators(make_bundle(drop=("caf_txcouv",)))
    v = result.commune.values
    # Département level 82 / 755 × 100 = 10,86 places per 100 children.
    assert v["sous_dotation"].tolist() == ["couvert", "couvert", "P1", "P1", "P2", "P3 vigilance"]
    assert "aucun EAJE à moins de 15,0 km" in v.at["66006", "sous_dotation_motif"]
    assert "< département 10,9" in v.at["66005", "sous_dotation_motif"]
    assert (result.commune.notes["sous_dotation"] == "règle de repli (offre seule)").all()
    none = compute_indicators(make_bundle(drop=("caf_txcouv", "caf_eaje")))
    assert (none.commune.states["sous_dotation"] == "nd").all()
    assert "sous_dotation" not in none.available


def test_synthetic_and_provenance(ind):
    assert ind.synthetic
    prov = ind.provenance("eaje_places_100_moins3")
    assert [p["layer"] for p in prov] == ["caf_eaje", "pop_age"]
    assert prov[0]["synthetic"]
    assert not prov[1]["synthetic"]
    assert prov[1]["present"]


def test_indicator_table_encoding(ind):
    table = indicator_table(ind, "commune")
    assert table.columns[:2].tolist() == ["Code", "Nom"]
    assert "Places en EAJE (places)" in table.columns
    assert (table["Avertissement"] == "Données fictives").all()
    row = table.set_index("Code").loc["66003"]
    assert row["Niveau de vie médian (€)"] == "secret"
    assert row["Places en EAJE (places)"] == 0
    assert pd.isna(row["Distance à l'ALSH le plus proche (km)"])
    assert table.set_index("Code").at["66006", "Nom"] == "'=Zeta"
    assert neutralise("+33 4") == "'+33 4"
    assert neutralise("@x") == "'@x"
    assert neutralise("Perpignan") == "Perpignan"


def test_csv_machine_and_excel(ind, tmp_path):
    path = tmp_path / "communes.csv"
    write_indicator_csv(ind, "commune", path)
    text = path.read_text(encoding="utf-8")
    assert "'=Zeta" in text
    assert ",=Zeta" not in text
    back = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("Code")
    assert back.at["66004", "Écart au taux de couverture France (points)"] == "-4.1"  # a number, not neutralised
    assert back.at["66003", "Niveau de vie médian (€)"] == "secret"
    assert back.at["66001", "Distance à l'ALSH le plus proche (km)"] == ""
    sidecar = json.loads((tmp_path / "communes.parametres.json").read_text(encoding="utf-8"))
    assert sidecar["donnees_fictives"]
    assert sidecar["parametres"]["bareme"]["montant_max"] == 3600.0
    excel = tmp_path / "communes_excel.csv"
    write_indicator_csv(ind, "epci", excel, excel=True)
    raw = excel.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Code;Nom;")
    assert ";13,8;" in lines[1 if lines[1].startswith(EPCI_A) else 2]
