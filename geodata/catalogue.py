"""The sources catalogue: the single truth for provenance (publisher, vintage, licence, URL, expected columns).

The builder looks each source up in the data directory by ``file_patterns``, calls its importer, and copies the
entry into the bundle manifest; the app's sources panel and every export read it from there. Entries are declared
next to their importers (``geodata/importers/official_*.py``, ``geodata/caf/importer.py``) and gathered here.
"""

from __future__ import annotations

from geodata.catalogue_types import Source
from geodata.importers import official_files, official_formats

__all__ = ["FETCHABLE_SOURCES", "PUBLIC_SOURCES", "Source", "all_sources", "get_source"]

PUBLIC_SOURCES: tuple[Source, ...] = official_files.SOURCES + official_formats.SOURCES

"""Filled below by the public-layer entries (one per official format)."""


def _fetchable() -> tuple[Source, ...]:
    from geodata.population import POPULATION_SOURCE

    return (*PUBLIC_SOURCES, POPULATION_SOURCE)


FETCHABLE_SOURCES: tuple[Source, ...] = _fetchable()
"""What ``ctg-carto data fetch`` knows: the public layers and the commune population package (npm registry)."""


def all_sources() -> tuple[Source, ...]:
    """Public sources, then the CAF extract templates (see :mod:`geodata.caf`)."""
    from geodata.caf.importer import CAF_SOURCES

    return PUBLIC_SOURCES + tuple(CAF_SOURCES)


def get_source(source_id: str) -> Source:
    """Look a source up by id; ``KeyError`` names the known ids."""
    for source in all_sources():
        if source.id == source_id:
            return source
    raise KeyError(f"source inconnue : {source_id!r} (connues : {', '.join(s.id for s in all_sources())})")
