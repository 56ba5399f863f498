"""Aggregation commune → EPCI → département → France, with the right weights.

Rules (declared on each indicator of the registry, ``Indicator.aggregate``, see :mod:`indicators.indicator`):
- counts (structures, places, population, QPV): **sum**;
- rates: **ratio of sums** (Σ places / Σ children × 100, Σ population / Σ area, Σ PF / Σ population DGF,
  Σ rate×persons / Σ persons for the poverty rate), never the mean of commune rates;
- distances and « population beyond the threshold »: **population-weighted** (Σ d×pop / Σ pop);
- accessibility (E2SFCA): **demand-weighted** (Σ A×demand / Σ demand);
- CAF coverage rates: the **published** EPCI / département / France figures (data.caf.fr), never recomputed;
- medians and categories: not aggregable → ``nd`` with the reason (an EPCI median income is nd unless published).

States: an aggregate is ``secret`` as soon as one member component is secret, ``nd`` if one is nd, else ``valeur``
(an aggregate over a secret value would let the secret be recovered by difference, and a sum with a missing member
would be silently wrong). A zero denominator gives ``nd``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.indicator import COMMUNAL, Aggregation, NotAggregated, Published, Ratio, Sum, Weighted
from indicators.registry import REGISTRY
from indicators.table import ND, VALUE, Cols, combine_states, join_notes


def _ratio(rule: Aggregation) -> tuple[str, str, float] | None:
    """(numerator, denominator, factor) raw columns of a rate or weighted mean; None for other rules."""
    if isinstance(rule, Ratio):
        return rule.num, rule.den, rule.factor
    if isinstance(rule, Weighted):
        return rule.product, rule.by, 1.0
    return None


def _note(rule: Aggregation) -> str:
    """Why a level has no computed value under ``rule`` ("" for sums and rates)."""
    if isinstance(rule, Published):
        return rule.note
    if isinstance(rule, NotAggregated):
        return rule.reason
    return ""


def _member_notes(notes: pd.Series, groups: pd.Series, keys: pd.Index) -> pd.Series:
    """Distinct notes of the members of each group (e.g. « annuaire 2016 »), at most three.

    Deduplicated before grouping and with a fast path for a single distinct note: at national scale (34 867
    communes × ~100 indicators) a per-group Python join over every member row took seconds.
    """
    frame = pd.DataFrame({"g": groups.to_numpy(dtype=object), "n": notes.to_numpy(dtype=object)})
    frame = frame[frame["n"].notna() & (frame["n"] != "")].drop_duplicates()
    out = pd.Series("", index=keys, dtype=object)
    if frame.empty:
        return out
    distinct = frame["n"].unique()
    if len(distinct) == 1:
        out[keys.isin(frame["g"])] = distinct[0]
        return out
    frame = frame.groupby("g", sort=False).head(3)
    joined = frame.groupby("g", sort=False)["n"].agg(lambda s: join_notes(*s.tolist()))
    return joined.reindex(keys).fillna("").astype(object)


def aggregate(
    cols: Cols,
    raw: Cols,
    groups: pd.Series,
    keys: pd.Index,
    published: dict[str, tuple[pd.Series, pd.Series, pd.Series]],
    order: list[str],
    fallback_note: str = "",
) -> Cols:
    """Aggregate commune columns to the territories ``keys``; ``groups`` maps each commune to its key.

    ``published`` holds the figures published at this level (they win over any computation); ``fallback_note`` is
    given to indicators neither computable nor published (e.g. « référence nationale non disponible »).
    """
    out = Cols(keys)
    members = groups.notna() & (groups.astype(str) != "")
    g = groups[members]

    def sub(series: pd.Series) -> pd.Series:
        return series[members]

    for key in order:
        ind = REGISTRY.get(key)
        rule = ind.aggregate if ind is not None else COMMUNAL
        if key in published:
            v, s, n = published[key]
            s = s.reindex(keys).fillna(ND)
            n = n.reindex(keys).fillna(_note(rule) or "non publié à ce niveau").astype(object)
            n = n.where(s != ND, n.where(n != "", "non publié à ce niveau"))
            out.put(key, v.reindex(keys), s, n)
            continue
        ratio = _ratio(rule)
        if isinstance(rule, Sum) and not fallback_note:
            states = combine_states(sub(cols.states[key]), g).reindex(keys).fillna(ND)
            values = sub(cols.values[key]).fillna(0.0).groupby(g).sum().reindex(keys)
            out.put(key, values, states, _member_notes(sub(cols.notes[key]), g, keys))
        elif ratio is not None and not fallback_note and ratio[0] in raw.values and ratio[1] in raw.values:
            num_col, den_col, factor = ratio
            both = pd.concat([sub(raw.states[num_col]), sub(raw.states[den_col])])
            states = combine_states(both, pd.concat([g, g])).reindex(keys).fillna(ND)
            num = sub(raw.values[num_col]).fillna(0.0).groupby(g).sum().reindex(keys)
            den = sub(raw.values[den_col]).fillna(0.0).groupby(g).sum().reindex(keys)
            values = factor * num / den.where(den > 0)
            notes = _member_notes(sub(cols.notes[key]), g, keys)
            zero = (states == VALUE) & values.isna()
            notes = notes.where(~zero, "dénominateur nul")
            states = states.where(~zero, ND)
            out.put(key, values, states, notes)
        else:
            text = ind is not None and ind.kind != "numeric"
            note = fallback_note or _note(rule)
            if key in cols.states and (cols.states[key] == ND).all() and len(cols.notes[key]):
                note = cols.notes[key].iloc[0] or note  # the commune reason (layer absent…) says more
            out.put_nd(key, note, text=text)
    return out


def add_row_note(cols: Cols, mask: pd.Series, note: str | pd.Series) -> None:
    """Add ``note`` to every cell of the rows in ``mask`` (e.g. « EPCI partiel »)."""
    for key, notes in cols.notes.items():
        extra = note if isinstance(note, pd.Series) else pd.Series(note, index=notes.index)
        cols.notes[key] = pd.Series(
            np.where(
                mask.reindex(notes.index, fill_value=False),
                [join_notes(a, b) for a, b in zip(notes, extra, strict=False)],
                notes,
            ),
            index=notes.index,
            dtype=object,
        )


__all__ = ["add_row_note", "aggregate"]
