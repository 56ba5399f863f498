"""Column accumulator shared by the theme modules: values, states and notes kept side by side.

Why: the three states (``valeur``, ``secret``, ``nd``) must travel with every number; keeping them in parallel
series from the start means no function can turn a secret or a missing value into a zero by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata.numbers import STATE_MISSING, STATE_SECRET, STATE_VALUE

VALUE, SECRET, ND = STATE_VALUE, STATE_SECRET, STATE_MISSING


def join_notes(*parts: str) -> str:
    """Join non-empty, distinct notes with « ; »."""
    out: list[str] = []
    for p in parts:
        for piece in str(p).split(" ; "):
            if piece and piece not in out:
                out.append(piece)
    return " ; ".join(out)


@dataclass
class Cols:
    """Per-territory columns: ``values``, ``states`` and ``notes`` series on a common index."""

    index: pd.Index
    values: dict[str, pd.Series] = field(default_factory=dict)
    states: dict[str, pd.Series] = field(default_factory=dict)
    notes: dict[str, pd.Series] = field(default_factory=dict)

    def put(
        self,
        key: str,
        values: pd.Series | float | str,
        states: pd.Series | str | None = None,
        notes: pd.Series | str = "",
    ) -> None:
        """Store a column; states default to ``valeur`` where a value exists and ``nd`` elsewhere."""
        if isinstance(values, pd.Series):
            v = values.reindex(self.index)
        else:
            v = pd.Series([values] * len(self.index), index=self.index)
        if v.dtype == object and not v.map(lambda x: isinstance(x, str) or x is None or x != x).all():
            v = pd.to_numeric(v)
        if states is None:
            s = pd.Series(np.where(v.notna(), VALUE, ND), index=self.index, dtype=object)
        elif isinstance(states, pd.Series):
            s = states.reindex(self.index).fillna(ND).astype(object)
        else:
            s = pd.Series([states] * len(self.index), index=self.index, dtype=object)
        # A value without the « valeur » state is never shown: blank it so no caller can read it as a number.
        not_value = (s != VALUE).to_numpy()
        if v.dtype.kind in "fiub":
            v = v.astype(float).mask(not_value)
        else:
            v = v.astype(object).mask(not_value, None)
        if isinstance(notes, pd.Series):
            n = notes.reindex(self.index).fillna("").astype(object)
        else:
            n = pd.Series([notes] * len(self.index), index=self.index, dtype=object)
        self.values[key], self.states[key], self.notes[key] = v, s, n

    def put_nd(self, key: str, note: str = "", *, text: bool = False) -> None:
        """Store a column that is « non disponible » everywhere, with the reason."""
        self.put(key, pd.Series(None if text else np.nan, index=self.index, dtype=object if text else float), ND, note)

    def frames(self, order: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Values, states and notes as three frames with the columns in ``order`` (missing ones are nd)."""
        for key in order:
            if key not in self.values:
                self.put_nd(key)
        cols = {k: self.values[k] for k in order}
        values = pd.DataFrame(cols, index=self.index)
        states = pd.DataFrame({k: self.states[k] for k in order}, index=self.index)
        notes = pd.DataFrame({k: self.notes[k] for k in order}, index=self.index)
        return values, states, notes


def combine_states(states: pd.Series, groups: pd.Series) -> pd.Series:
    """State of an aggregate per group: ``secret`` if any member is secret, else ``nd`` if any is nd, else
    ``valeur`` (an aggregate over a secret or missing value is never published as if it were complete)."""
    frame = pd.DataFrame(
        {"g": groups.to_numpy(), "secret": (states == SECRET).to_numpy(), "nd": (states == ND).to_numpy()}
    )
    agg = frame.groupby("g", sort=False)[["secret", "nd"]].any()
    out = pd.Series(VALUE, index=agg.index, dtype=object)
    out[agg["nd"]] = ND
    out[agg["secret"]] = SECRET
    return out


def state_from_layer(layer_states: pd.Series) -> pd.Series:
    """Normalise a ``<col>_etat`` column from a bundle layer (unknown text counts as nd)."""
    s = layer_states.astype(object).fillna(ND)
    return s.where(s.isin([VALUE, SECRET, ND]), ND)
