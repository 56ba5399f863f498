"""Catalogue entries for the official files we hold for dept 66 (filled by the public-importers work)."""

from __future__ import annotations

from geodata.catalogue_types import Source

SOURCES: tuple[Source, ...] = ()
