"""Catalogue entries for official formats users bring (BPE, INSEE RP, DGCL, data.caf.fr)."""

from __future__ import annotations

from geodata.catalogue_types import Source

SOURCES: tuple[Source, ...] = ()
