"""Aggregation commune → EPCI → département → France, with the right weights.

Rules (one per indicator, :data:`RULES`):
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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators.common import Published
from indicators.registry import REGISTRY
from indicators.table import ND, VALUE, Cols, combine_states, join_notes

NOTE_COMMUNAL = "indicateur communal"
NOTE_MEDIAN = "médiane non agrégeable (non publiée à ce niveau)"


@dataclass(frozen=True)
class Rule:
    """How an indicator goes up one level: ``sum``, ``ratio`` (Σ num / Σ den × factor), ``published``, ``none``."""

    kind: str
    num: str = ""
    den: str = ""
    factor: float = 1.0
    note: str = ""


_SUMS = [
    "eaje_nb",
    "eaje_places",
    "eaje_places_psu",
    "eaje_places_hors_psu",
    "micro_creche_paje_nb",
    "micro_creche_paje_places",
    "alsh_nb",
    "alsh_places",
    "centres_sociaux_nb",
    "evs_nb",
    "caf_accueils_nb",
    "france_services_nb",
    "laep_nb",
    "rpe_nb",
    "bpe_eaje_nb",
    "population",
    "pop_moins3",
    "pop_3_10",
    "qpv",
]

RULES: dict[str, Rule] = {key: Rule("sum") for key in _SUMS}
RULES.update(
    {
        "eaje_places_100_moins3": Rule("ratio", "_eaje_places", "_pop_0002", 100.0),
        "eaje_places_1000_hab": Rule("ratio", "_eaje_places", "_pop", 1000.0),
        "alsh_places_100_3_10": Rule("ratio", "_alsh_places", "_pop_0310", 100.0),
        "densite_hab_km2": Rule("ratio", "_pop", "_area"),
        "taux_pauvrete": Rule("ratio", "_tp60_x_pers", "_pers"),
        "potentiel_financier_hab": Rule("ratio", "_pf_x_popdgf", "_popdgf"),
        "qpv_part_pop": Rule("ratio", "_qpv_pop", "_pop", 100.0),
        "txcouv_global": Rule("published", note="taux non publié à ce niveau"),
        "txcouv_eaje": Rule("published", note="taux non publié à ce niveau"),
        "ecart_txcouv_global_france": Rule("published", note="taux non publié à ce niveau"),
        "med_niveau_vie": Rule("none", note=NOTE_MEDIAN),
    }
)
for _kind in ("eaje", "alsh", "centre_social", "caf", "france_services"):
    RULES[f"distance_{_kind}_km"] = Rule("ratio", f"_dist_{_kind}_x_pop", "_pop")
    RULES[f"part_pop_loin_{_kind}"] = Rule("ratio", f"_loin_{_kind}_pop", "_pop", 100.0)
for _key in ("acces_eaje", "acces_eaje_hab", "acces_alsh", "acces_alsh_hab"):
    # Demand-weighted mean: Σ A × demand / Σ demand (= places shared out per unit of demand of the territory).
    RULES[_key] = Rule("ratio", f"_{_key}_x_dem", f"_{_key}_dem")
for _key, _ind in REGISTRY.items():
    RULES.setdefault(_key, Rule("none", note=NOTE_COMMUNAL))


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
        rule = RULES.get(key, Rule("none", note=NOTE_COMMUNAL))
        if key in published:
            v, s, n = published[key]
            s = s.reindex(keys).fillna(ND)
            n = n.reindex(keys).fillna(rule.note or "non publié à ce niveau").astype(object)
            n = n.where(s != ND, n.where(n != "", "non publié à ce niveau"))
            out.put(key, v.reindex(keys), s, n)
            continue
        if rule.kind == "sum" and not fallback_note:
            states = combine_states(sub(cols.states[key]), g).reindex(keys).fillna(ND)
            values = sub(cols.values[key]).fillna(0.0).groupby(g).sum().reindex(keys)
            out.put(key, values, states, _member_notes(sub(cols.notes[key]), g, keys))
        elif rule.kind == "ratio" and not fallback_note and rule.num in raw.values and rule.den in raw.values:
            both = pd.concat([sub(raw.states[rule.num]), sub(raw.states[rule.den])])
            states = combine_states(both, pd.concat([g, g])).reindex(keys).fillna(ND)
            num = sub(raw.values[rule.num]).fillna(0.0).groupby(g).sum().reindex(keys)
            den = sub(raw.values[rule.den]).fillna(0.0).groupby(g).sum().reindex(keys)
            values = rule.factor * num / den.where(den > 0)
            notes = _member_notes(sub(cols.notes[key]), g, keys)
            zero = (states == VALUE) & values.isna()
            notes = notes.where(~zero, "dénominateur nul")
            states = states.where(~zero, ND)
            out.put(key, values, states, notes)
        else:
            ind = REGISTRY.get(key)
            text = ind is not None and ind.kind != "numeric"
            note = fallback_note or rule.note
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


__all__ = ["RULES", "Published", "Rule", "add_row_note", "aggregate"]
