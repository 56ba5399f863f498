"""Importers: one function per official format, each ``(path, ctx) -> LayerResult``.

Contract (every importer):
- reads the publisher's own format through :func:`geodata.readers.read_table` (or pyogrio/geopandas for geometry);
- cuts to ``ctx.departement`` (``"all"`` keeps everything), validates codes against ``ctx.commune_codes``;
- returns a table with the documented columns (see the module docstring of each importer) and, for point or polygon
  layers, a GeoDataFrame in EPSG:4326;
- raises :class:`geodata.errors.DataError` (file, line, column) on bad input; never returns a half-read table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geodata.errors import Problem


@dataclass(frozen=True)
class ImportContext:
    """What an importer needs to know about the territory being built."""

    departement: str
    """INSEE département code (``"66"``, ``"2A"``) or ``"all"``."""
    communes: gpd.GeoDataFrame
    """Commune base (see :mod:`geodata.communes`): ``code``, ``nom``, ``epci_code``, ``mairie_lon``/``mairie_lat``,
    geometry (EPSG:4326)."""
    extra_codes: frozenset[str] = frozenset()
    """Valid codes that are not map units: Paris/Lyon/Marseille when mapped by arrondissement, communes without a
    polygon. Files may name them; the builder then places their rows (see :mod:`geodata.build`)."""

    @property
    def commune_codes(self) -> frozenset[str]:
        """INSEE codes of the communes of the base (current COG), arrondissements and their communes included."""
        return frozenset(self.communes["code"]) | self.extra_codes

    def in_scope(self, code: str) -> bool:
        """Whether an INSEE commune code belongs to the département being built (before checking it exists)."""
        return self.departement == "all" or code.startswith(self.departement)


@dataclass
class LayerResult:
    """An imported, validated layer and what the manifest says about it."""

    layer_id: str
    table: pd.DataFrame
    source_id: str
    input_files: list[Path]
    warnings: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    vintage: str = ""
    """Vintage read from the data itself (e.g. a CAF extraction date); overrides the catalogue's generic text."""
    synthetic: bool = False
    """True for the demo extract: everything derived from it is shown as « Données fictives »."""


class Importer(Protocol):
    """Signature shared by every importer."""

    def __call__(self, path: Path, ctx: ImportContext) -> LayerResult:
        """The layer read from ``path`` for the territory of ``ctx``."""
        ...
