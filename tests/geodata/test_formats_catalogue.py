"""Catalogue entries of the official formats: each one finds its fixture by ``file_patterns`` and imports it through
its declared importer into the documented layer schema (docs/bundle.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.catalogue import PUBLIC_SOURCES, Source
from geodata.communes import load_commune_base
from geodata.importers import ImportContext
from geodata.importers.official_formats import SOURCES

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"

SCHEMAS = {
    "bpe": ["code_commune", "typequ", "categorie", "capacite", "capacite_etat", "lon", "lat", "geometry", "annee"],
    "pop_age": ["code_commune", "annee", "pop", "pop_etat", "pop_0002", "pop_0305", "pop_0610", "pop_1117"],
    "dgcl_pf": ["code_commune", "annee", "pf_hab", "pf_hab_etat", "population_dgf"],
    "caf_txcouv": [
        "niveau",
        "code",
        "nom",
        "annee",
        "txcouv",
        "txcouv_eaje",
        "txcouv_psu",
        "txcouv_hors_psu",
        "txcouv_prescol",
        "txcouv_am",
        "txcouv_gad",
        "txcouv_ind",
        "txcouv_ind_etat",
    ],
    "caf_nbpla": [
        "niveau",
        "code",
        "nom",
        "annee",
        "pl_psu",
        "pl_hors_psu",
        "pl_prescol",
        "pl_am",
        "pl_gad",
        "tot_offre",
        "tot_offre_etat",
    ],
    "caf_allocataires": ["code_commune", "annee", "foyers", "foyers_etat", "personnes", "personnes_etat"],
}


@pytest.fixture(scope="session")
def formats_ctx_66() -> ImportContext:
    return ImportContext("66", load_commune_base("66").communes)


def test_entries_are_complete_and_registered() -> None:
    assert [s.id for s in SOURCES] == list(SCHEMAS)
    for source in SOURCES:
        assert source in PUBLIC_SOURCES
        assert all((source.title, source.publisher, source.licence, source.expected_columns, source.file_patterns))
        assert source.page_url.startswith("https://")
        assert "placez" in source.howto  # a French instruction, not a placeholder


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.id)
def test_each_entry_finds_and_imports_its_fixture(source: Source, formats_ctx_66: ImportContext) -> None:
    found = source.find(FORMATS)
    assert found is not None, source.file_patterns
    result = source.load_importer()(found, formats_ctx_66)
    assert result.layer_id == source.layer_id
    assert not (set(SCHEMAS[source.id]) - set(result.table.columns))
    assert len(result.table) > 0
    if "code_commune" in result.table.columns:
        assert set(result.table["code_commune"]) <= formats_ctx_66.commune_codes
    if "annee" in result.table.columns:
        assert str(result.table["annee"].dtype) == "int64"
