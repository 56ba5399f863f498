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
    "bonus_statut",
    "acces_eaje",
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


def test_bonus_state_model(ind):
    b = ind.bonus()
    assert list(b.columns) == [
        "statut", "tranche", "montant", "montant_min", "montant_max", "manque", "ctg", "resume", "motif"
    ]  # fmt: skip
    # QPV commune whose own CTG is only « en cours »: tranche 1, the amount it would pay once the CTG is signed.
    assert b.loc["66001", ["statut", "tranche", "montant"]].tolist() == ["si CTG signée", "T1", 3600.0]
    assert b.at["66001", "resume"] == "si CTG signée : 3 600 € par place nouvelle et par an (T1)"
    assert "CTG de la commune : en cours" in b.at["66001", "motif"]
    # ZRR commune covered by its EPCI's signed CTG: applicable.
    assert b.loc["66004", ["statut", "tranche", "montant"]].tolist() == ["applicable", "T1", 3600.0]
    assert b.at["66004", "resume"] == "applicable : 3 600 € par place nouvelle et par an (T1)"
    assert "EPCI" in b.at["66004", "motif"]
    # Signed commune CTG but the tranche (T4, rich commune) is an unconfirmed barème line: range and what is missing.
    row = b.loc["66002"]
    assert row["statut"] == "à confirmer" and row["tranche"] == "T4" and math.isnan(row["montant"])
    assert (row["montant_min"], row["montant_max"]) == (2600.0, 3600.0)
    assert row["resume"].startswith("à confirmer : 2 600 – 3 600 € par place nouvelle et par an (montant de la T4")
    assert b.loc["66005", ["statut", "tranche"]].tolist() == ["à confirmer", "T2"]
    # No potentiel financier: no guess.
    assert b.at["66006", "tranche"] == "selon richesse"
    assert b.at["66006", "manque"] == "potentiel financier absent"
    assert ind.commune.states.at["66006", "bonus_montant"] == "nd"
    assert "2 600 – 3 600 €" in ind.commune.notes.at["66006", "bonus_montant"]
    # One indicator on the map, the same sentence in the text column every view reads.
    assert ind.commune.values.at["66004", "bonus_statut"] == "applicable"
    assert ind.commune.values.at["66004", "bonus_resume"] == b.at["66004", "resume"]
    assert REGISTRY["bonus_statut"].carte and not REGISTRY["bonus_montant"].carte


def test_bonus_non_when_the_ctg_is_refused():
    ctg = make_bundle().layers["caf_ctg"].copy()
    ctg.loc[ctg["code"] == EPCI_B, "statut"] = "non signée"
    b = compute_indicators(make_bundle(replace={"caf_ctg": ctg})).bonus()
    assert b.loc["66004", ["statut", "montant", "ctg"]].tolist() == ["non", 0.0, "non"]
    assert b.at["66004", "resume"] == "non : 0 € (CTG de l'EPCI (CC Corbières Salanque Méditerranée) : non signée)"
    assert "si une CTG était signée : 3 600 €" in b.at["66004", "motif"]
    # A signed commune row wins over its EPCI's refusal (the commune co-funds the places).
    ctg.loc[len(ctg)] = ["commune", "66005", "Epsilon", "signée", "2024-01-01", "", "commune"]
    b = compute_indicators(make_bundle(replace={"caf_ctg": ctg})).bonus()
    assert b.at["66005", "ctg"] == "signée"


def test_bonus_frr_setting_and_qpv_plus_frr():
    params = load_params()
    frr = compute_indicators(make_bundle(), dataclasses.replace(params, zonage_rural="frr2025")).bonus()
    # FRR counted as rural zone: tranche 1, but the CNAF texts name ZRR → to confirm.
    assert frr.loc["66006", ["statut", "tranche"]].tolist() == ["à confirmer", "T1"]
    assert frr.at["66006", "manque"] == "prise en compte des FRR par la Cnaf à confirmer"
    assert frr.at["66004", "tranche"] == "T2"  # ZRR no longer counts
    both = compute_indicators(make_bundle(), dataclasses.replace(params, zonage_rural="les_deux")).bonus()
    assert both.at["66001", "tranche"] == "T1"
    assert "QPV et FRR" in both.at["66001", "motif"]
    assert both.at["66001", "statut"] == "si CTG signée"


def test_bonus_without_ctg_layer():
    b = compute_indicators(make_bundle(drop=("caf_ctg",))).bonus()
    assert set(b["statut"]) == {"si CTG signée", "à confirmer"}
    assert b.loc["66004", ["statut", "montant"]].tolist() == ["si CTG signée", 3600.0]
    assert "liste des CTG absente" in b.at["66004", "motif"]


def test_underserved_cnaf_rule_then_accessibility(ind):
    v = ind.commune.values
    # 66001 has its own CNAF rate: CNAF rule. The others only have their EPCI's rate: accessibility (E2SFCA) against
    # the département level 82 / 755 × 100 = 10,86 places per 100 children (see test_accessibility.py).
    assert v["sous_dotation"].tolist() == ["P1", "P3 vigilance", "P1", "P1", "P3 vigilance", "P3 vigilance"]
    assert v.at["66001", "sous_dotation_motif"] == "taux de couverture 50,0 < France 60,9 ; commune en QPV"
    assert ind.commune.notes.at["66001", "sous_dotation"] == "règle Cnaf (taux de couverture)"
    assert v.at["66002", "sous_dotation_motif"] == (
        "accessibilité EAJE 9,1 places pour 100 enfants, 83 % du niveau du département (10,9) (taux de l'EPCI 55,0)"
    )
    assert v.at["66003", "sous_dotation_motif"].endswith(
        "moins de 50 % du niveau du département (10,9) (taux de l'EPCI 55,0) ; commune en ZRR 2017 (classée)"
    )
    assert v.at["66006", "sous_dotation_motif"].startswith("aucune place d'EAJE à moins de 15 km (trajet estimé)")
    assert (
        "P1/P2 non évaluables : potentiel financier ou niveau de vie non disponible"
        in v.at["66006", "sous_dotation_motif"]
    )
    assert ind.commune.notes.at["66002", "sous_dotation"] == "règle de repli (accessibilité EAJE)"


def test_underserved_p2_and_threshold_branch():
    params = dataclasses.replace(load_params(), ratio_deficit=0.6)
    v = compute_indicators(make_bundle(), params).commune.values
    # 66005: 5,50 / 10,86 = 51 % < 60 %, no priority zone, PF 950 < 978 and niveau de vie 21 500 < 23 000 → P2.
    assert v.at["66005", "sous_dotation"] == "P2"
    assert (
        "potentiel financier 950 € < 978 € et niveau de vie 21500 € < 23000 €" in v.at["66005", "sous_dotation_motif"]
    )
    # Without accessibility (no EAJE extract) the EPCI rate falls back on the CNAF ladder, flagged.
    tx = make_bundle().layers["caf_txcouv"].copy()
    tx.loc[tx["code"] == EPCI_B, "txcouv"] = 56.0
    v = compute_indicators(make_bundle(drop=("caf_eaje",), replace={"caf_txcouv": tx})).commune.values
    assert v.loc[["66004", "66005", "66006"], "sous_dotation"].tolist() == ["P1", "P2", "P3 vigilance"]
    assert "taux de couverture de l'EPCI 56,0 < France 60,9" in v.at["66005", "sous_dotation_motif"]
    assert "P1/P2 non évaluables" in v.at["66006", "sous_dotation_motif"]
    # France reference below the local rate but rate under 58 → vigilance by the plan-rebond threshold.
    params = dataclasses.replace(load_params(), tx_global_france=45.0)
    layers = make_bundle().layers
    tx2 = layers["caf_txcouv"][layers["caf_txcouv"]["niveau"] != "nat"]
    result = compute_indicators(make_bundle(replace={"caf_txcouv": tx2}), params)
    assert result.commune.values.at["66001", "sous_dotation"] == "P3 vigilance"
    assert "< seuil 58,0" in result.commune.values.at["66001", "sous_dotation_motif"]
    assert "paramétrée" in result.france.notes.at["FR", "txcouv_global"]


def test_underserved_fallback_separates_the_creche_town_from_its_hamlet():
    result = compute_indicators(make_bundle(drop=("caf_txcouv",)))
    v = result.commune.values
    # EPCI A: Alpha (60 places) is above the département level, Beta (12 places) at 83 %, Gamma (no crèche, only
    # Beta's places at 10-15 km) under half of it.
    assert v["sous_dotation"].tolist() == ["couvert", "P3 vigilance", "P1", "P1", "P3 vigilance", "P3 vigilance"]
    assert v.at["66001", "sous_dotation_motif"] == (
        "accessibilité EAJE 15,2 places pour 100 enfants ≥ niveau du département (10,9)"
    )
    assert (result.commune.notes["sous_dotation"] == "règle de repli (accessibilité EAJE)").all()
    none = compute_indicators(make_bundle(drop=("caf_txcouv", "caf_eaje")))
    assert (none.commune.states["sous_dotation"] == "nd").all()
    assert "sous_dotation" not in none.available
    assert none.commune.notes.at["66001", "sous_dotation"] == "taux de couverture communal et offre EAJE absents"


def test_level_shares():
    from indicators.underserved import level_shares

    shares = level_shares(pd.Series(["P1", "P1", "couvert", None]))
    assert shares["P1"] == (2, 50.0)
    assert shares["P2"] == (0, 0.0)
    assert shares["non disponible"] == (1, 25.0)


def test_synthetic_and_provenance(ind):
    assert ind.synthetic
    prov = ind.provenance("eaje_places_100_moins3")
    assert [p.layer for p in prov] == ["caf_eaje", "pop_age", "caf_demande"]
    assert not prov[2].present
    assert prov[0].synthetic
    assert not prov[1].synthetic
    assert prov[1].present


def test_indicator_table_encoding(ind):
    table = indicator_table(ind, "commune")
    assert table.columns[:2].tolist() == ["Code", "Nom"]
    assert "Places en EAJE (places)" in table.columns
    assert (table["Avertissement"] == "Données fictives").all()
    row = table.set_index("Code").loc["66003"]
    assert row["Niveau de vie médian (€)"] == "secret statistique"
    assert row["Places en EAJE (places)"] == 0
    assert row["Distance à l'ALSH le plus proche (km)"] == "non disponible"
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
    back = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#").set_index("Code")
    assert back.at["66004", "Écart au taux de couverture France (points)"] == "-4.1"  # a number, not neutralised
    assert back.at["66003", "Niveau de vie médian (€)"] == "secret statistique"
    assert back.at["66001", "Distance à l'ALSH le plus proche (km)"] == "non disponible"
    sidecar = json.loads((tmp_path / "communes.parametres.json").read_text(encoding="utf-8"))
    assert sidecar["donnees_fictives"]
    assert sidecar["parametres"]["bareme"]["montant_max"] == 3600.0
    excel = tmp_path / "communes_excel.csv"
    write_indicator_csv(ind, "epci", excel, excel=True)
    raw = excel.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = [line for line in raw.decode("utf-8-sig").splitlines() if not line.startswith("#")]
    assert lines[0].startswith("Code;Nom;")
    assert ";13,8;" in lines[1 if lines[1].startswith(EPCI_A) else 2]


def test_priority_status_never_reads_an_unknown_zoning_as_outside(ind):
    """The one priority-zone rule (bonus tranche, under-served levels, fiche map): unknown stays None."""
    from indicators.bonus import priority_status

    values, states = ind.commune.values.copy(), ind.commune.states.copy()
    status = priority_status(values, states, ind.params)
    assert set(status.dropna().map(type)) <= {bool}
    code = values.index[0]
    states.loc[code, ["qpv", "zrr_classee", "frr_classement"]] = "nd"
    values.loc[code, "qpv"] = 0.0
    assert priority_status(values, states, ind.params)[code] is None
    states.loc[code, "qpv"] = "valeur"
    values.loc[code, "qpv"] = 1.0
    assert priority_status(values, states, ind.params)[code] is True


def test_every_indicator_declares_how_it_goes_up_a_level():
    """A new indicator without its aggregation cannot even be declared (keyword-only, no default)."""
    from indicators.indicator import Aggregation, Indicator, Sum

    assert all(isinstance(meta.aggregate, Aggregation) for meta in REGISTRY.values())
    with pytest.raises(TypeError, match="aggregate"):
        Indicator("x", "X", "Offre", "", "", (), "neutre")  # type: ignore[call-arg]
    assert Indicator("x", "X", "Offre", "", "", (), "neutre", aggregate=Sum()).aggregate == Sum()


def test_computable_aggregations_give_an_epci_value(ind):
    """Sums, rates and weighted means present at commune level are never silently « non disponible » per EPCI:
    an EPCI without value says why (a secret or missing member, a zero denominator)."""
    from indicators.indicator import Ratio, Sum, Weighted

    for ind_id in ind.available:
        if not isinstance(REGISTRY[ind_id].aggregate, Sum | Ratio | Weighted):
            continue
        states, notes = ind.epci.states[ind_id], ind.epci.notes[ind_id]
        assert ((states != "nd") | (notes != "")).all(), ind_id
