"""The indicator registry: one stable id per indicator, with its French label, unit, definition and input layers.

Why a registry: the dashboard builds its pickers, legends and CSV headers from it, and ids appear in URLs, so an id
never changes meaning. Order = theme, then importance. What an entry holds: :class:`indicators.indicator.Indicator`;
the entries themselves: :mod:`indicators.registry_offre` and :mod:`indicators.registry_territoire`.
"""

from __future__ import annotations

from indicators.indicator import THEMES, Indicator
from indicators.registry_offre import OFFRE_ACCES
from indicators.registry_territoire import TERRITOIRE

REGISTRY: dict[str, Indicator] = {ind.id: ind for ind in (*OFFRE_ACCES, *TERRITOIRE)}
"""All indicators by id, ordered by theme then importance."""

__all__ = ["REGISTRY", "THEMES", "Indicator"]
