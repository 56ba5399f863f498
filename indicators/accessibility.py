"""Spatial accessibility to places (EAJE, ALSH): the enhanced two-step floating catchment area method (E2SFCA).

Why not « is there a crèche in the commune »: in a territory of small communes, families use the crèche of the next
town; presence says nothing about the hamlet 20 km up the valley, while a crèche town and its neighbours share the
same places. The standard measure of spatial accessibility to a supply with a capacity is the two-step floating
catchment area family: 2SFCA (Luo & Wang, 2003, *Environment and Planning B* 30(6)) and its distance-decay variant
E2SFCA (Luo & Qi, 2009, *Health & Place* 15(4)); in France the DREES/IRDES « accessibilité potentielle localisée »
(APL) to doctors is built the same way (domain.md §7.3).

Method (``docs/diagnostic.md``):
- step 1, for each structure *j*: R_j = places_j / Σ_k w(d_kj) · demand_k over the demand points *k* within d0;
- step 2, for each commune *i*: A_i = Σ_j w(d_ij) · R_j over the structures within d0.
Demand points are town halls; distances are straight lines in Lambert-93 metres (EPSG:2154) multiplied by a detour
factor (an estimate of the road distance); ``w`` is a step function of that distance (``parametres.toml``,
``[accessibilite]``). With the same weights in both steps, Σ_i demand_i · A_i = Σ_j places_j (every place reached
by some demand is shared out exactly once): the demand-weighted mean of A over the département is its number of
places per unit of demand, the reference the under-served rule compares each commune to.

Scale: only pairs within d0 are computed (STR-tree query), so the cost grows with the number of pairs, not with
communes × structures (national scale: ~35 000 communes × ~15 000 structures; ``bench/indicators.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from geodata.numbers import format_short
from indicators.access import to_lambert93
from indicators.common import Context
from indicators.params import Params
from indicators.table import VALUE, Cols

CHILD_FACTOR = 100.0
HAB_FACTOR = 1000.0
NOTE_PROXY = "population, faute de nombre d'enfants"


@dataclass(frozen=True)
class E2sfca:
    """Result of :func:`e2sfca` on arrays (no pandas): what each demand point reaches, what each structure serves."""

    access: np.ndarray
    """A_i: places reachable per unit of demand, per demand point (0 where nothing is within d0)."""
    ratio: np.ndarray
    """R_j: places per unit of weighted demand, per structure (NaN when no demand lies within d0)."""
    pairs: int
    """Number of (demand point, structure) pairs within d0 (the work done)."""


def step_weights(road_m: np.ndarray, steps: Sequence[tuple[float, float]]) -> np.ndarray:
    """Weight of each distance (m of estimated road distance): the weight of the first step whose bound it does not
    exceed (``d ≤ bound``), 0 beyond the last bound."""
    bounds = np.array([b for b, _ in steps], dtype=float)
    weights = np.array([w for _, w in steps] + [0.0], dtype=float)
    return weights[np.searchsorted(bounds, np.asarray(road_m, dtype=float), side="left")]


def e2sfca(
    demand_xy: np.ndarray,
    demand: np.ndarray,
    supply_xy: np.ndarray,
    supply: np.ndarray,
    steps_m: Sequence[tuple[float, float]],
    detour: float = 1.0,
) -> E2sfca:
    """E2SFCA on projected coordinates (metres): ``steps_m`` = (bound in m of road distance, weight), ascending.

    Raises:
        ValueError: coordinates and values of different lengths (a silent misalignment would shift every result).
    """
    demand_xy, supply_xy = np.asarray(demand_xy, dtype=float), np.asarray(supply_xy, dtype=float)
    demand, supply = np.asarray(demand, dtype=float), np.asarray(supply, dtype=float)
    if len(demand_xy) != len(demand) or len(supply_xy) != len(supply):
        raise ValueError("e2sfca : coordonnées et valeurs de longueurs différentes")
    access = np.zeros(len(demand))
    ratio = np.full(len(supply), np.nan)
    if not len(demand) or not len(supply):
        return E2sfca(access, ratio, 0)
    reach = steps_m[-1][0] / detour  # straight-line radius of the catchment
    tree = shapely.STRtree(shapely.points(supply_xy[:, 0], supply_xy[:, 1]))
    origins = shapely.points(demand_xy[:, 0], demand_xy[:, 1])
    k, j = tree.query(origins, predicate="dwithin", distance=reach)
    road = np.hypot(demand_xy[k, 0] - supply_xy[j, 0], demand_xy[k, 1] - supply_xy[j, 1]) * detour
    w = step_weights(road, steps_m)
    keep = w > 0
    k, j, w = k[keep], j[keep], w[keep]
    weighted_demand = np.bincount(j, weights=w * demand[k], minlength=len(supply))
    served = weighted_demand > 0
    ratio[served] = supply[served] / weighted_demand[served]
    contrib = w * np.where(served[j], ratio[j], 0.0)
    access = np.asarray(np.bincount(k, weights=contrib, minlength=len(demand)), dtype=float)
    return E2sfca(access, ratio, len(k))


@dataclass(frozen=True)
class Accessibility:
    """Accessibility of one kind of place at commune level, with everything needed to explain and reuse it."""

    kind: str
    """``eaje`` or ``alsh``."""
    indicator: str
    """Registry id holding the values (``acces_eaje`` per 100 children, ``acces_eaje_hab`` per 1 000 inhabitants)."""
    factor: float
    unit: str
    """« places pour 100 enfants de moins de 3 ans » or « places pour 1 000 habitants (population, faute…) »."""
    demand: pd.Series
    """Demand per commune (children or inhabitants)."""
    demand_label: str
    """What the demand is (« enfants de moins de 3 ans (Insee RP 2022) », « population, faute de nombre d'enfants »)."""
    proxy: bool
    access: pd.Series
    """A_i × factor per commune."""
    reference: pd.Series
    """Per commune, the demand-weighted mean accessibility of its département (same unit)."""
    places_total: float
    places_unreached: float
    """Places of structures with no demand point within d0 (not shared out)."""
    method: str
    """One French sentence: method, demand, parameters (stored with the result, shown in legends and exports)."""


def method_text(params: Params, demand_label: str) -> str:
    """The parameters of the accessibility in one sentence (legend, fiche, CSV sidecar)."""
    steps = ", ".join(
        f"{format_short(low)}–{format_short(high)} km : {format_short(w)}"
        for (low, (high, w)) in zip([0.0] + [b for b, _ in params.paliers_km[:-1]], params.paliers_km, strict=True)
    )
    return (
        f"E2SFCA (Luo & Qi 2009) : demande = {demand_label}, au point de la mairie ; distance à vol d'oiseau "
        f"(Lambert-93) × {format_short(params.facteur_detour)} (détour) ; "
        f"zone de chalandise {format_short(params.d0_km)} km ; "
        f"poids par palier de distance {steps}"
    )


def _supply(ctx: Context, kind: str) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Structure coordinates (Lambert-93) and places; None when the layer is absent. Also the rows left out."""
    layer = ctx.layer("caf_eaje" if kind == "eaje" else "caf_alsh")
    if layer is None:
        return None
    if kind == "eaje":
        places = pd.to_numeric(layer["places"], errors="coerce")
    else:
        cols = [c for c in ("places_periscolaire", "places_mercredi", "places_vacances") if c in layer]
        places = layer[cols].apply(pd.to_numeric, errors="coerce").max(axis=1)
    lon = pd.to_numeric(layer["lon"], errors="coerce")
    lat = pd.to_numeric(layer["lat"], errors="coerce")
    ok = (places > 0) & lon.notna() & lat.notna()
    x, y = to_lambert93(lon[ok].to_numpy(), lat[ok].to_numpy())
    left_out = int((places.isna() | lon.isna() | lat.isna()).sum())
    return np.column_stack([x, y]), places[ok].to_numpy(float), left_out


_KINDS = {
    "eaje": ("acces_eaje", "acces_eaje_hab", "_pop_0002", "enfants de moins de 3 ans", "extrait CAF des EAJE absent"),
    "alsh": ("acces_alsh", "acces_alsh_hab", "_pop_0310", "enfants de 3 à 10 ans", "extrait CAF des ALSH absent"),
}


def _demand(ctx: Context, raw: Cols, key: str, children_label: str) -> tuple[pd.Series, str, bool]:
    """Children of the age band when every inhabited commune has a value (one unit for the whole territory),
    else the population, flagged as a proxy."""
    pop = ctx.base["population"].astype(float)
    if key in raw.values:
        values, states = raw.values[key], raw.states[key]
        note = raw.notes.get(key, pd.Series("", index=values.index))
        if ((states == VALUE) | (pop <= 0)).all() and (states == VALUE).any():
            sources = sorted({n for n in note[states == VALUE] if n})
            source = f" : {', '.join(sources)}" if sources else ""
            return values.fillna(0.0).astype(float), children_label + source, False
    return pop, NOTE_PROXY, True


def compute_accessibility(ctx: Context, cols: Cols, raw: Cols, params: Params) -> dict[str, Accessibility]:
    """Fill ``acces_eaje``/``acces_eaje_hab`` and ``acces_alsh``/``acces_alsh_hab`` (one of each pair is ``nd``)
    and the raw sums their aggregation needs; return the per-kind details (demand, reference, method)."""
    base = ctx.base
    index = base.index
    demand_xy = np.column_stack([base["x"].to_numpy(float), base["y"].to_numpy(float)])
    steps_m = [(b * 1000.0, w) for b, w in params.paliers_km]
    out: dict[str, Accessibility] = {}
    for kind, (child_id, hab_id, demand_key, children_label, absent) in _KINDS.items():
        supply = _supply(ctx, kind)
        if supply is None:
            for key in (child_id, hab_id):
                cols.put_nd(key, absent)
                raw.put_nd(f"_{key}_x_dem")
                raw.put_nd(f"_{key}_dem")
            continue
        xy, places, left_out = supply
        demand, demand_label, proxy = _demand(ctx, raw, demand_key, children_label)
        factor = HAB_FACTOR if proxy else CHILD_FACTOR
        used, other = (hab_id, child_id) if proxy else (child_id, hab_id)
        result = e2sfca(demand_xy, demand.to_numpy(), xy, places, steps_m, params.facteur_detour)
        access = pd.Series(result.access * factor, index=index)
        method = method_text(params, demand_label)
        note = "demande : population (faute de nombre d'enfants)" if proxy else ""
        if left_out:
            note = "; ".join(p for p in (note, f"{left_out} structure(s) sans places ou sans position ignorée(s)") if p)
        cols.put(used, access, VALUE, note)
        cols.put_nd(other, f"non calculé : demande = {demand_label} (voir l'indicateur voisin)")
        raw.put(f"_{used}_x_dem", access * demand)
        raw.put(f"_{used}_dem", demand)
        raw.put_nd(f"_{other}_x_dem")
        raw.put_nd(f"_{other}_dem")
        dep = base["departement"]
        num = (access * demand).groupby(dep).sum()
        den = demand.groupby(dep).sum()
        reference = dep.map(num / den.where(den > 0))
        unreached = float(places[~(result.ratio == result.ratio)].sum())
        unit = f"places pour 1 000 habitants ({NOTE_PROXY})" if proxy else f"places pour 100 {children_label}"
        out[kind] = Accessibility(
            kind=kind,
            indicator=used,
            factor=factor,
            unit=unit,
            demand=demand,
            demand_label=demand_label,
            proxy=proxy,
            access=access,
            reference=reference,
            places_total=float(places.sum()),
            places_unreached=unreached,
            method=method,
        )
    return out
