"""« Communes à cibler » on the map page: every candidate ranked once at start-up, filtered per request.

Why precompute: the ranking (E2SFCA accessibility, children without a reachable place) is computed once by
:func:`indicators.targets.compute_targets` over every commune; a filter change (levels, bonus statuses, accessibility
ceiling, EPCI) only masks that table and renumbers the ranks, so the callback does no indicator work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from indicators.targets import TargetFilter, Targets, compute_targets

ALL_LEVELS = ("P1", "P2", "P3 vigilance", "couvert")
ALL_STATUTS = ("applicable", "si CTG signée", "à confirmer", "non")
RATIO_CHOICES = ((0.5, "moins de la moitié du niveau du département"), (1.0, "sous le niveau du département"))


@dataclass(frozen=True)
class TargetRows:
    """Every candidate commune, ranked, and the defaults of the filters (``[cibles]`` of the parameters)."""

    table: pd.DataFrame
    ranked_by: str
    unit: str
    demand_label: str
    reason: str
    synthetic: bool
    default_levels: tuple[str, ...] = ("P1", "P2")
    default_statuts: tuple[str, ...] = ("applicable", "si CTG signée", "à confirmer")
    default_ratio: float = 1.0


def build_target_rows(indicators: Any) -> TargetRows | None:
    """The full ranked list of ``indicators`` (None for indicators without accessibility, e.g. test fakes)."""
    if not hasattr(indicators, "access") or not hasattr(indicators, "params"):
        return None
    wide = TargetFilter(ALL_LEVELS, ALL_STATUTS, float("inf"))
    full = compute_targets(indicators, wide)
    p = indicators.params
    return TargetRows(
        table=full.table,
        ranked_by=full.ranked_by,
        unit=full.unit,
        demand_label=full.demand_label,
        reason=full.reason,
        synthetic=bool(indicators.synthetic),
        default_levels=tuple(p.cibles_niveaux),
        default_statuts=tuple(p.cibles_statuts_bonus),
        default_ratio=float(p.cibles_ratio_acces_max),
    )


def filter_targets(
    rows: TargetRows, levels: Sequence[str], statuts: Sequence[str], ratio: float, epci: str = ""
) -> Targets:
    """The list for one choice of filters, ranks renumbered from 1."""
    t = rows.table
    keep = t["niveau"].isin(list(levels)) & t["bonus_statut"].isin(list(statuts))
    keep &= t["acces"].astype(float) < float(ratio) * t["reference"].astype(float)
    if epci:
        keep &= t["epci_code"] == epci
    table = t[keep.to_numpy()].copy()
    table["rang"] = np.arange(1, len(table) + 1)
    return Targets(table.reset_index(drop=True), rows.ranked_by, rows.unit, rows.demand_label, rows.reason)


def target_table_rows(targets: Targets) -> list[dict[str, Any]]:
    """Rows of the on-screen table (numbers stay numbers so the columns sort)."""
    out = []
    for r in targets.table.itertuples(index=False):
        out.append(
            {
                "rang": int(r.rang),
                "code": str(r.code),
                "commune": str(r.commune),
                "epci": str(r.epci),
                "niveau": str(r.niveau),
                "acces": round(float(r.acces), 1),
                "enfants": None if r.enfants_sans_place != r.enfants_sans_place else round(float(r.enfants_sans_place)),
                "places": None if r.places_a_creer != r.places_a_creer else int(r.places_a_creer),
                "bonus": str(r.bonus),
                "motif": str(r.motif),
            }
        )
    return out
