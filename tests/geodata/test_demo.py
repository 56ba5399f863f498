"""Synthetic demo extract: plausible CAF 66 totals, reproducible bytes, clean import through the CAF importers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely

from geodata import caf
from geodata.demo import write_demo_extract
from geodata.importers import ImportContext, LayerResult

PERPIGNAN = "66136"


@pytest.fixture(scope="session")
def ctx66(import_ctx_66: ImportContext) -> ImportContext:
    return import_ctx_66


@pytest.fixture(scope="session")
def demo_dir(ctx66: ImportContext, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("demo")
    write_demo_extract(dest, ctx66.communes)
    return dest


@pytest.fixture(scope="session")
def demo(demo_dir: Path, ctx66: ImportContext) -> dict[str, LayerResult]:
    results = {}
    for source in caf.CAF_SOURCES:
        path = source.find(demo_dir)
        assert path is not None, source.id
        results[source.id] = source.load_importer()(path, ctx66)
    return results


def test_writes_every_template_and_the_marker(demo_dir: Path) -> None:
    names = sorted(p.name for p in demo_dir.iterdir())
    assert names == [
        "DONNEES_FICTIVES.txt",
        "accueils_demo.csv",
        "alsh_demo.csv",
        "centres_sociaux_demo.csv",
        "ctg_demo.csv",
        "demande_demo.csv",
        "eaje_demo.csv",
    ]
    assert "DONNÉES FICTIVES" in (demo_dir / "DONNEES_FICTIVES.txt").read_text(encoding="utf-8")


def test_imports_cleanly_and_is_flagged_synthetic(demo: dict[str, LayerResult], demo_dir: Path, ctx66) -> None:
    for result in demo.values():
        assert result.synthetic is True
        assert result.warnings == []
        assert "Date d'extraction : 2025-06-30 (colonne « Date d'extraction »)" in result.notes
    for path in demo_dir.glob("*.csv"):
        assert caf.check_caf_file(path, ctx66) == []


def test_eaje_totals_match_caf66_orders_of_magnitude(demo: dict[str, LayerResult], ctx66: ImportContext) -> None:
    eaje = demo["caf_eaje"].table
    assert abs(eaje["places"].sum() - 2260) <= 0.02 * 2260
    assert 85 <= len(eaje) <= 95
    perpignan = eaje.loc[eaje["code_commune"] == PERPIGNAN, "places"].sum()
    assert 0.30 <= perpignan / eaje["places"].sum() <= 0.40
    paje = eaje["type_accueil"] == "micro-crèche PAJE"
    assert paje.sum() >= 5
    assert not eaje.loc[paje, "psu"].any()
    assert eaje["psu"].mean() > 0.6
    assert eaje.loc[paje, "places"].between(10, 12).all()
    assert eaje["nom"].str.contains("fictive").all()
    assert re.fullmatch(r"(Micro-c|C)rèche fictive n°1 \(Perpignan\)", eaje["nom"].iloc[0])
    # Bigger communes get more places; many small communes get none (the under-served logic needs them).
    assert len(ctx66.communes) - eaje["code_commune"].nunique() >= 150
    small = ctx66.communes.loc[ctx66.communes["population"] < 1000, "code"]
    assert not eaje["code_commune"].isin(small).any()


def test_other_layers_totals(demo: dict[str, LayerResult], ctx66: ImportContext) -> None:
    alsh = demo["caf_alsh"].table
    assert abs(len(alsh) - 170) <= 10
    assert alsh[["places_periscolaire", "places_mercredi", "places_vacances"]].notna().any(axis=1).all()
    cs = demo["caf_centres_sociaux"].table["type_structure"].value_counts()
    assert abs(cs["centre social"] - 25) <= 3
    assert abs(cs["EVS"] - 15) <= 3
    accueils = demo["caf_accueils"].table
    by_town = accueils.loc[accueils["type_site"] != "permanence", "code_commune"].value_counts().to_dict()
    assert by_town == {PERPIGNAN: 3, "66049": 1, "66149": 1}  # Perpignan ×3, Céret, Prades
    assert (accueils["type_site"] == "permanence").sum() >= 2
    ctg = demo["caf_ctg"].table
    by_epci = ctg[ctg["niveau"] == "epci"]
    assert sorted(by_epci["code"]) == sorted(set(ctx66.communes["epci_code"]) - {""})
    assert len(by_epci) == 12
    assert set(ctg["statut"]) == {"signée", "en cours", "à renouveler", "non signée"}
    assert (ctg["statut"] == "non signée").sum() == 1
    # The Ville de Perpignan's own CTG, signed on 27 February 2025 (a public fact kept in the demo).
    perpignan = ctg[ctg["niveau"] == "commune"]
    assert perpignan[["code", "statut", "date_signature"]].values.tolist() == [[PERPIGNAN, "signée", "2025-02-27"]]
    assert (ctg.loc[ctg["statut"] == "signée", "date_signature"] <= "2025-06-30").all()
    signed = ctg[~ctg["statut"].isin(["en cours", "non signée"])]
    assert (signed["date_signature"] != "").all()
    assert (signed["date_fin"] > signed["date_signature"]).all()
    assert (ctg.loc[ctg["statut"] == "à renouveler", "date_fin"] < "2025-06-30").all()
    assert (ctg.loc[ctg["statut"].isin(["en cours", "non signée"]), "date_signature"] == "").all()


def test_demand_extract_children_and_rates(demo: dict[str, LayerResult], ctx66: ImportContext) -> None:
    demande = demo["caf_demande"].table.set_index("code_commune")
    communes = ctx66.communes.set_index("code")
    assert sorted(demande.index) == sorted(communes.index)
    share = demande["enfants_0_2"].sum() / communes["population"].sum()
    assert 0.024 <= share <= 0.030
    assert 0.075 <= demande["enfants_3_10"].sum() / communes["population"].sum() <= 0.09
    rated = demande["taux_couverture"].notna()
    big = communes["population"] >= 10_000
    assert rated[big[big].index].all()  # every commune the CNAF would publish
    assert 1 <= int((rated & ~big.reindex(rated.index)).sum()) <= 6  # and a few smaller ones (the extract's use)
    assert demande.loc[rated, "taux_couverture"].between(15, 120).all()
    # Every EPCI main town has a crèche, and a multi-accueil.
    eaje = demo["caf_eaje"].table
    hubs = ctx66.communes.sort_values("population", ascending=False).drop_duplicates("epci_code")["code"]
    for code in hubs:
        assert "multi-accueil" in set(eaje.loc[eaje["code_commune"] == code, "type_accueil"]) or code == PERPIGNAN


def test_points_stay_in_their_commune_and_some_use_the_town_hall(demo: dict[str, LayerResult], ctx66) -> None:
    polygons = ctx66.communes.set_index("code").geometry
    for layer in ("caf_eaje", "caf_alsh", "caf_centres_sociaux", "caf_accueils"):
        table = demo[layer].table
        given = table[table["geolocalisation"] == "coordonnées"]
        inside = shapely.contains(polygons.loc[given["code_commune"]].to_numpy(), given.geometry.to_numpy())
        assert inside.all(), layer
    eaje = demo["caf_eaje"].table
    hall = eaje[eaje["geolocalisation"] == "mairie"]
    assert 5 <= len(hall) <= 25
    halls = ctx66.communes.set_index("code")
    assert (hall["lon"].to_numpy() == halls.loc[hall["code_commune"], "mairie_lon"].to_numpy()).all()


def test_same_seed_same_bytes_other_seed_other_bytes(demo_dir: Path, ctx66: ImportContext, tmp_path: Path) -> None:
    again = write_demo_extract(tmp_path / "again", ctx66.communes, seed=66)
    for path in again:
        assert path.read_bytes() == (demo_dir / path.name).read_bytes(), path.name
    other = write_demo_extract(tmp_path / "other", ctx66.communes.sample(frac=1, random_state=1), seed=7)
    assert other[0].read_bytes() != (demo_dir / other[0].name).read_bytes()
    # Row order of the commune base does not matter: the same seed on a shuffled base gives the same files.
    shuffled = write_demo_extract(tmp_path / "shuffled", ctx66.communes.sample(frac=1, random_state=2), seed=66)
    assert shuffled[0].read_bytes() == (demo_dir / "eaje_demo.csv").read_bytes()
