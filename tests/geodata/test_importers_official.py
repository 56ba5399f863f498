"""Importers of the official files on the real dept 66 files (the embedded copies in data/sources) and the fixtures
written in the publishers' own formats (national QPV 2024 GeoJSON, ZRR workbook with its header on row 6)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from geodata.importers.anct import import_anct_programmes, import_anct_typologies
from geodata.importers.chiffres_cles import import_chiffres_cles
from geodata.importers.dila import import_dila_annuaire
from geodata.importers.filosofi import import_filosofi
from geodata.importers.france_services import import_france_services
from geodata.importers.official_files import SOURCES
from geodata.importers.qpv import import_qpv2015, import_qpv2024, import_qpv2024_liste
from geodata.importers.zonages import import_frr2025, import_zrr2017
from geodata.numbers import STATE_SECRET, STATE_VALUE
from geodata.settings import EMBEDDED_SOURCES

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "importers"
QP2024_NATIONAL = FIXTURES / "QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"
ZRR_WORKBOOK = FIXTURES / "diffusion-zonages-zrr-cog2021.xlsx"


def _source(source_id: str):
    return next(s for s in SOURCES if s.id == source_id)


def _real(source_id: str) -> Path:
    path = _source(source_id).find(EMBEDDED_SOURCES)
    assert path is not None, f"{source_id}: fichier réel introuvable dans {EMBEDDED_SOURCES}"
    return path


def test_france_services_real_file(import_ctx_66):
    result = import_france_services(_real("france_services"), import_ctx_66)
    gdf = result.table
    assert list(gdf.columns) == [
        "id_fs", "nom", "code_commune", "commune", "adresse", "code_postal", "type_fs", "format_fs",
        "horaires", "telephone", "mail", "lon", "lat", "geometry",
    ]  # fmt: skip
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == 33
    assert gdf["type_fs"].value_counts().to_dict() == {"Principal": 27, "Antenne": 6}
    assert set(gdf["code_commune"]) <= import_ctx_66.commune_codes
    ille = gdf[gdf["id_fs"] == "400"].iloc[0]
    assert ille["code_commune"] == "66088"
    assert ille["horaires"].startswith("lundi 08:45 - 12:45 / 13:45 - 17:00 ; mardi 08:45 - 12:45 / 13:45 - 17:30 ;")
    assert "samedi" not in ille["horaires"]  # closed on Saturday: left out
    assert (ille["lon"], ille["lat"]) == pytest.approx((2.623884, 42.66962))
    assert ille.geometry.x == pytest.approx(ille["lon"])


def test_qpv2015_polygons_with_population(import_ctx_66):
    result = import_qpv2015(_real("qpv2015"), import_ctx_66)
    gdf = result.table
    assert list(gdf.columns) == ["code_qp", "nom_qp", "code_commune", "population", "geometry"]
    assert len(gdf) == 10
    assert sorted(gdf["code_qp"]) == [f"QP0660{n:02d}" for n in range(1, 11)]
    assert set(gdf.geom_type) == {"Polygon"}
    by_code = gdf.set_index("code_qp")
    assert by_code.loc["QP066001", "code_commune"] == "66065"  # Elne
    assert (by_code.drop("QP066001")["code_commune"] == "66136").all()  # Perpignan
    assert by_code.loc["QP066008", "population"] == 11358
    # 1226 + 2630 + 3430 + 2828 + 5101 + 1581 + 2854 + 11358 + 994 + 1609
    assert gdf["population"].sum() == 33611
    assert len(result.input_files) == 2


def test_qpv2015_without_indicators_file_has_nan_population(import_ctx_66, tmp_path):
    path = tmp_path / "qpv2015_contours_66.geojson"
    shutil.copy(_real("qpv2015"), path)
    gdf = import_qpv2015(path, import_ctx_66).table
    assert gdf["population"].isna().all()


def test_qpv2024_list(import_ctx_66):
    result = import_qpv2024_liste(_real("qpv2024_liste"), import_ctx_66)
    gdf = result.table
    assert result.layer_id == "qpv2024"
    assert list(gdf.columns) == ["code_qp", "nom_qp", "code_commune", "perimetre", "geometry"]
    assert len(gdf) == 10
    assert not gdf["perimetre"].any()
    assert gdf.geometry.isna().all()
    assert gdf["code_commune"].value_counts().to_dict() == {"66136": 9, "66065": 1}


def test_qpv2024_national_geojson_cut_to_66(import_ctx_66):
    result = import_qpv2024(QP2024_NATIONAL, import_ctx_66)
    gdf = result.table
    assert result.source_id == "qpv2024_perimetres"
    assert list(gdf.columns) == ["code_qp", "nom_qp", "code_commune", "perimetre", "geometry"]
    assert sorted(gdf["code_qp"]) == ["QN06601M", "QN06602I", "QN06608I"]  # Carcassonne's QN01101M cut away
    assert gdf["perimetre"].all()
    assert set(gdf.geom_type) == {"Polygon"}
    assert gdf.crs.to_epsg() == 4326
    assert gdf.set_index("code_qp").loc["QN06601M", "nom_qp"] == "Centre Ville"


def test_catalogue_prefers_qpv2024_polygons_over_list(tmp_path):
    qpv2024 = [s for s in SOURCES if s.layer_id == "qpv2024"]
    assert [s.id for s in qpv2024] == ["qpv2024_perimetres", "qpv2024_liste"]
    (tmp_path / "qpv2024_anct_superposeur").mkdir()
    shutil.copy(_real("qpv2024_liste"), tmp_path / "qpv2024_anct_superposeur" / "qpv2024_liste_66.csv")
    # List only: the perimeters source finds nothing, the list is the first found.
    assert [s.id for s in qpv2024 if s.find(tmp_path)] == ["qpv2024_liste"]
    (tmp_path / "anct_qpv" / "GEOJSON").mkdir(parents=True)
    shutil.copy(QP2024_NATIONAL, tmp_path / "anct_qpv" / "GEOJSON" / QP2024_NATIONAL.name)
    first = next(s for s in qpv2024 if s.find(tmp_path))
    assert first.id == "qpv2024_perimetres"
    assert first.find(tmp_path).name == QP2024_NATIONAL.name


def test_zrr2017_real_csv(import_ctx_66):
    result = import_zrr2017(_real("zrr2017"), import_ctx_66)
    table = result.table
    assert list(table.columns) == ["code_commune", "zrr_simp", "zonage_zrr", "zrr_classee", "statut", "libelle"]
    assert len(table) == 226
    assert table["zrr_simp"].value_counts().to_dict() == {"C": 129, "NC": 97}
    assert table["zonage_zrr"].value_counts().to_dict() == {"C": 124, "NC": 97, "A": 5}
    # « Classées » = ZONAGE_ZRR C (124, as the official lists); the 5 « A – sortantes » are their own class.
    assert table["zrr_classee"].sum() == 124
    assert (table["statut"] == "sortante (effets maintenus)").sum() == 5
    assert "124 commune(s) classée(s)" in result.notes[0] and "5 sortante" in result.notes[0]
    assert set(table["code_commune"]) == import_ctx_66.commune_codes
    assert result.warnings == []


def test_zrr2017_official_workbook_layout(import_ctx_66):
    result = import_zrr2017(ZRR_WORKBOOK, import_ctx_66)
    table = result.table.set_index("code_commune")
    assert list(table.index) == ["66001", "66003", "66004", "66005"]  # 01001 cut away
    assert table["zrr_simp"].to_dict() == {"66001": "NC", "66003": "C", "66004": "C", "66005": "P"}
    assert table.loc["66004", "zonage_zrr"] == "A"  # « C  Classée » with two spaces read as C
    # Classée = ZONAGE_ZRR C, whatever ZRR_SIMP says; the « A – sortante » 66004 is not.
    assert table["zrr_classee"].to_dict() == {"66001": False, "66003": True, "66004": False, "66005": True}
    assert table.loc["66004", "statut"] == "sortante (effets maintenus)"
    assert table.loc["66004", "libelle"].startswith("A - Sortante en 2017")
    assert "222 commune(s)" in result.warnings[0].message  # 226 - 4 listed


def test_frr2025_real_file(import_ctx_66):
    table = import_frr2025(_real("frr2025"), import_ctx_66).table
    assert list(table.columns) == ["code_commune", "classement", "frr_classee"]
    assert table["classement"].value_counts().to_dict() == {
        "FRR socle": 124,
        "Non classée": 86,
        "FRR+": 13,
        "FRR bénéficiaire": 3,
    }
    assert table["frr_classee"].sum() == 124 + 13 + 3
    assert set(table["code_commune"]) == import_ctx_66.commune_codes


def test_filosofi_real_file_keeps_secrets(import_ctx_66):
    result = import_filosofi(_real("filosofi2021"), import_ctx_66)
    table = result.table.set_index("code_commune")
    assert list(result.table.columns) == [
        "code_commune", "med", "med_etat", "tp60", "tp60_etat",
        "nb_menages", "nb_menages_etat", "nb_personnes", "nb_personnes_etat",
    ]  # fmt: skip
    assert len(table) == 226
    secret = table["med_etat"] == STATE_SECRET
    assert secret.sum() == 47
    assert table.loc[secret, "med"].isna().all()
    assert not (table["med"] == 0).any()
    assert (table.loc[~secret, "med_etat"] == STATE_VALUE).all()
    assert table.loc["66136", ["med", "tp60", "nb_menages", "nb_personnes"]].tolist() == [17380, 34.0, 55482, 108672]
    assert math.isnan(table.loc["66001", "tp60"])
    assert table.loc["66001", "tp60_etat"] == STATE_SECRET
    assert result.notes[0].startswith("Filosofi 2021")


def test_anct_typologies_four_grids(import_ctx_66):
    result = import_anct_typologies(_real("anct_typologies"), import_ctx_66)
    table = result.table.set_index("code_commune")
    assert list(result.table.columns) == ["code_commune", "densite", "ruralite", "centralite", "montagne"]
    assert len(table) == 226
    assert len(result.input_files) == 4
    assert (table["montagne"] != "").sum() == 160
    assert table.loc["66002", "montagne"] == ""  # Alénya, plain: not listed by the publisher
    assert table.loc["66001", "montagne"] == "08 - Massif des Pyrénées"
    assert table.loc["66001", "ruralite"] == "Les ruralités résidentielles mixtes"  # leading space stripped
    assert not table["ruralite"].str.startswith(" ").any()
    assert table["densite"].value_counts()["Grands centres urbains"] == 2


def test_anct_programmes_points(import_ctx_66):
    gdf = import_anct_programmes(_real("anct_programmes"), import_ctx_66).table
    assert list(gdf.columns) == [
        "programme", "programme_libelle", "id_territoire", "lib_territoire", "code_commune",
        "date_signature", "lon", "lat", "geometry",
    ]  # fmt: skip
    assert gdf["programme"].value_counts().to_dict() == {"PVD": 23, "VA": 15, "ACV": 1, "CITEDUC": 1, "FRLA": 1}
    frla = gdf[gdf["programme"] == "FRLA"].iloc[0]
    assert frla["code_commune"] == "66049"
    assert frla["programme_libelle"] == "Fonds de restructuration des locaux d'activité"
    assert gdf[gdf["programme"] == "ACV"].iloc[0]["code_commune"] == "66136"
    assert set(gdf["code_commune"]) <= import_ctx_66.commune_codes


def test_dila_annuaire_2016(import_ctx_66):
    result = import_dila_annuaire(_real("dila_annuaire_2016"), import_ctx_66)
    gdf = result.table
    assert list(gdf.columns) == [
        "id", "type", "nom", "code_commune", "adresse", "telephone", "mise_a_jour", "position", "lon", "lat",
        "geometry",
    ]  # fmt: skip
    assert len(gdf) == 65
    assert (gdf["type"] == "caf").sum() == 5
    ceret = gdf.set_index("id").loc["caf-66049-01"]
    assert ceret["adresse"] == "Avenue François-Mitterrand 66400 Céret"  # physical, not the siège's BP
    assert ceret["mise_a_jour"] == "2016-02-08"
    # Two entries geocoded in other départements are moved to their town hall, with a warning naming the line.
    assert [w.row for w in result.warnings] == [28, 58]
    prades = gdf.set_index("id").loc["pole_emploi-66149-01"]
    hall = import_ctx_66.communes.set_index("code").loc["66149"]
    assert (prades["lon"], prades["lat"]) == pytest.approx((hall["mairie_lon"], hall["mairie_lat"]))
    # The move is carried by the row itself, for the structure's hover and details.
    assert prades["position"].startswith("déplacé à la mairie de Prades : le point publié (43.4739, -0.933762)")
    assert (gdf["position"] != "").sum() == 2
    assert _source("dila_annuaire_2016").vintage == "2016 (ancien)"


def test_chiffres_cles(import_ctx_66):
    table = import_chiffres_cles(_real("chiffres_cles"), import_ctx_66).table
    assert list(table.columns) == [
        "annee",
        "indicateur",
        "valeur",
        "unite",
        "precision",
        "editeur_source",
        "source_url",
    ]
    assert len(table) == 17
    assert str(table["annee"].dtype) == "int64"
    row = table[(table["annee"] == 2024) & (table["indicateur"] == "foyers_allocataires")].iloc[0]
    assert row["valeur"] == 112575.0


def test_catalogue_entries_are_complete():
    layers = {s.layer_id for s in SOURCES}
    assert layers == {
        "france_services", "qpv2015", "qpv2024", "zrr2017", "frr2025", "filosofi2021",
        "anct_typologies", "anct_programmes", "dila_annuaire_2016", "chiffres_cles",
    }  # fmt: skip
    for source in SOURCES:
        assert all((source.title, source.publisher, source.vintage, source.licence, source.howto)), source.id
        assert callable(source.load_importer()), source.id
        if source.id != "qpv2024_perimetres":  # the national GeoJSON is not held (see PROVENANCE.md)
            assert source.find(EMBEDDED_SOURCES) is not None, source.id
