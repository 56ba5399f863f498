"""Small helpers shared by the theme modules: reading layers keyed by commune with their states."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata.bundle import INT_SAFE, BundleError
from indicators.table import ND, SECRET, VALUE, state_from_layer

PublishedFigures = dict[str, dict[str, tuple[pd.Series, pd.Series, pd.Series]]]
"""Level → indicator id → (values, states, notes) published directly at that level (not aggregated)."""


@dataclass
class Context:
    """What every theme module reads and writes during one computation."""

    base: pd.DataFrame
    """Communes indexed by INSEE code: ``nom``, ``population``, ``epci_code``, ``epci_nom``, ``departement``,
    ``x``/``y`` (town hall, Lambert-93 m), ``area_km2``."""
    layers: dict[str, pd.DataFrame]
    published: PublishedFigures = field(default_factory=lambda: {"epci": {}, "departement": {}, "france": {}})

    def layer(self, layer_id: str) -> pd.DataFrame | None:
        """The bundle layer or None when absent."""
        return self.layers.get(layer_id)


def latest(df: pd.DataFrame, key: str = "code_commune") -> pd.DataFrame:
    """Keep the most recent ``annee`` per key (layers may hold several vintages)."""
    if "annee" in df.columns and len(df):
        df = df.sort_values("annee", kind="stable")
    return df.drop_duplicates(key, keep="last")


def pair(df: pd.DataFrame, col: str, index: pd.Index, key: str = "code_commune") -> tuple[pd.Series, pd.Series]:
    """Values and states of ``col`` reindexed on ``index``; a commune absent from the table is nd."""
    df = latest(df, key).set_index(key)
    values = pd.to_numeric(df[col], errors="coerce").astype(float) if col in df else pd.Series(dtype=float)
    etat = f"{col}_etat"
    if etat in df:
        states = state_from_layer(df[etat])
    else:
        states = pd.Series(np.where(values.notna(), VALUE, ND), index=values.index, dtype=object)
    states = states.where(~((states == VALUE) & values.isna()), ND)
    return values.reindex(index), states.reindex(index).fillna(ND).astype(object)


def sum_states(*states: pd.Series) -> pd.Series:
    """State of a sum of several statistics of the same territory: secret wins, then nd."""
    out = states[0].copy()
    for s in states[1:]:
        out = out.where(~(s == ND), ND)
    for s in states:
        out = out.where(~(s == SECRET), SECRET)
    return out


def count_by_commune(df: pd.DataFrame, index: pd.Index, mask: pd.Series | None = None) -> pd.Series:
    """Number of rows per commune (0 where none: a true zero when the layer is present)."""
    if mask is not None:
        df = df[mask.to_numpy()]
    return df.groupby("code_commune").size().reindex(index, fill_value=0).astype(float)


def sum_by_commune(df: pd.DataFrame, col: str, index: pd.Index, mask: pd.Series | None = None) -> pd.Series:
    """Sum of ``col`` per commune, 0 where no row.

    Raises:
        BundleError: a count that no validated extract can hold (negative, infinite or beyond 2⁵³): summing it
            would put a wrapped-around or absurd number on the map.
    """
    if mask is not None:
        df = df[mask.to_numpy()]
    values = pd.to_numeric(df[col], errors="coerce").fillna(0.0)
    bad = ~np.isfinite(values.to_numpy(dtype="float64")) | (values < 0) | (values > INT_SAFE)
    if bad.any():
        raise BundleError(
            f"Valeur impossible dans « {col} » ({values[bad].iloc[0]}) : reconstruisez le bundle depuis des extraits "
            "validés."
        )
    return values.groupby(df["code_commune"].to_numpy()).sum().reindex(index, fill_value=0.0).astype(float)


def ratio(num: pd.Series, den: pd.Series, factor: float) -> pd.Series:
    """``factor * num / den``, NaN where the denominator is 0 or missing."""
    den = den.where(den > 0)
    return factor * num / den
