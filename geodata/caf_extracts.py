"""CAF extract templates (placeholder, filled by the CAF-extracts work)."""

from __future__ import annotations

from geodata.catalogue_types import Source

CAF_SOURCES: list[Source] = []
