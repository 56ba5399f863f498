"""Under-served communes (petite enfance): P1 / P2 / P3 vigilance / couvert, after domain.md §5.3.

With CNAF coverage rates (commune, else EPCI rate flagged):
- P1: global rate under the France reference AND commune in a priority zone (QPV or rural zoning parameter);
- P2: under the France reference AND potentiel financier AND niveau de vie under their references (CNAF 2014);
- P3 vigilance: under the France reference, or under the plan-rebond threshold (58 %);
- couvert otherwise.
Without coverage rates (``repli_actif``): the same ladder with « offer deficit » in place of « under the France
reference »: no EAJE within the EAJE distance threshold, or EAJE places per 100 children under 3 (else per 1 000
inhabitants) below ``ratio_repli`` × the département level. The motif always says which rule applied.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.bonus import priority_zone_flags, zone_hits
from indicators.common import Context
from indicators.params import Params
from indicators.table import ND, VALUE, Cols

NOTE_REPLI = "règle de repli (offre seule)"


def _fmt(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def _department_level(ctx: Context, raw: Cols, num: str, den: str, factor: float) -> pd.Series:
    """Per commune, the ratio of sums of its département (only communes with both components known)."""
    ok = (raw.states[num] == VALUE) & (raw.states[den] == VALUE)
    dep = ctx.base["departement"]
    n = raw.values[num].where(ok, 0.0).groupby(dep).sum()
    d = raw.values[den].where(ok, 0.0).groupby(dep).sum()
    level = factor * n / d.where(d > 0)
    return dep.map(level)


def compute_underserved(ctx: Context, cols: Cols, raw: Cols, params: Params) -> None:
    """Fill ``sous_dotation`` (category) and ``sous_dotation_motif`` (French sentence)."""
    index = ctx.base.index
    flags = priority_zone_flags(cols, params)
    tx, tx_state, tx_note = cols.values["txcouv_global"], cols.states["txcouv_global"], cols.notes["txcouv_global"]
    france = ctx.published["france"].get("txcouv_global")
    ref = float(france[0].iloc[0]) if france is not None else params.tx_global_france
    pf, pf_state = cols.values["potentiel_financier_hab"], cols.states["potentiel_financier_hab"]
    nv, nv_state = cols.values["med_niveau_vie"], cols.states["med_niveau_vie"]

    dist, dist_state = cols.values["distance_eaje_km"], cols.states["distance_eaje_km"]
    per_child, per_child_state = cols.values["eaje_places_100_moins3"], cols.states["eaje_places_100_moins3"]
    per_hab, per_hab_state = cols.values["eaje_places_1000_hab"], cols.states["eaje_places_1000_hab"]
    eaje_present = ctx.layer("caf_eaje") is not None
    dep_child = dep_hab = pd.Series(np.nan, index=index)
    if eaje_present:
        dep_child = _department_level(ctx, raw, "_eaje_places", "_pop_0002", 100.0)
        dep_hab = _department_level(ctx, raw, "_eaje_places", "_pop", 1000.0)

    # Plain dicts: Series indexing per commune dominated the run time at national scale.
    tx, tx_state, tx_note = tx.to_dict(), tx_state.to_dict(), tx_note.to_dict()
    pf, pf_state, nv, nv_state = pf.to_dict(), pf_state.to_dict(), nv.to_dict(), nv_state.to_dict()
    dist, dist_state = dist.to_dict(), dist_state.to_dict()
    per_child, per_child_state = per_child.to_dict(), per_child_state.to_dict()
    per_hab, per_hab_state = per_hab.to_dict(), per_hab_state.to_dict()
    dep_child, dep_hab = dep_child.to_dict(), dep_hab.to_dict()
    levels, motifs, states, notes = [], [], [], []
    for code in index:
        hits, unknown = zone_hits(flags, code)
        low_pf = pf_state[code] == VALUE and pf[code] < params.pf_reference_eur_hab
        low_nv = nv_state[code] == VALUE and nv[code] < params.nv_reference_eur
        pf_nv_known = pf_state[code] == VALUE and nv_state[code] == VALUE
        if tx_state[code] == VALUE:
            rule = "taux de couverture" + (" de l'EPCI" if "taux de l'EPCI" in tx_note[code] else "")
            value = tx[code]
            deficit = value < ref
            deficit_text = f"{rule} {_fmt(value)} < France {_fmt(ref)}"
            vigilance = value < params.seuil_couverture
            vigilance_text = f"{rule} {_fmt(value)} < seuil {_fmt(params.seuil_couverture)}"
            covered_text = f"{rule} {_fmt(value)} ≥ France {_fmt(ref)} et ≥ {_fmt(params.seuil_couverture)}"
            note = tx_note[code]
        elif params.repli_actif and eaje_present:
            reasons = []
            if dist_state[code] == VALUE and dist[code] > params.seuil_eaje_km:
                reasons.append(f"aucun EAJE à moins de {_fmt(params.seuil_eaje_km)} km")
            elif dist_state[code] != VALUE:
                reasons.append("aucun EAJE dans l'extrait CAF")
            if per_child_state[code] == VALUE and dep_child[code] == dep_child[code]:
                if per_child[code] < params.ratio_repli * dep_child[code]:
                    reasons.append(
                        f"{_fmt(per_child[code])} places EAJE pour 100 enfants < département {_fmt(dep_child[code])}"
                    )
            elif (
                per_hab_state[code] == VALUE
                and dep_hab[code] == dep_hab[code]
                and per_hab[code] < params.ratio_repli * dep_hab[code]
            ):
                reasons.append(
                    f"{_fmt(per_hab[code])} places EAJE pour 1 000 habitants < département {_fmt(dep_hab[code])}"
                )
            deficit = bool(reasons)
            deficit_text = f"{NOTE_REPLI}, taux de couverture absent : " + " et ".join(reasons)
            vigilance, vigilance_text = False, ""
            covered_text = f"{NOTE_REPLI}, taux de couverture absent : offre EAJE au niveau du département"
            note = NOTE_REPLI
        else:
            levels.append(None)
            motifs.append(None)
            states.append(ND)
            notes.append("taux de couverture et offre EAJE absents")
            continue
        if deficit and hits:
            level, motif = "P1", f"{deficit_text} ; commune en {' et '.join(hits)}"
        elif deficit and low_pf and low_nv:
            level = "P2"
            motif = (
                f"{deficit_text} ; potentiel financier {pf[code]:.0f} € < {params.pf_reference_eur_hab:.0f} € et "
                f"niveau de vie {nv[code]:.0f} € < {params.nv_reference_eur:.0f} €"
            )
        elif deficit or vigilance:
            level = "P3 vigilance"
            motif = deficit_text if deficit else vigilance_text
            if deficit:
                gaps = []
                if unknown:
                    gaps.append(f"zonage inconnu ({', '.join(unknown)})")
                if not pf_nv_known:
                    gaps.append("potentiel financier ou niveau de vie non disponible")
                if gaps:
                    motif += " ; P1/P2 non évaluables : " + ", ".join(gaps)
        else:
            level, motif = "couvert", covered_text
        levels.append(level)
        motifs.append(motif)
        states.append(VALUE)
        notes.append(note)
    state = pd.Series(states, index=index, dtype=object)
    cols.put("sous_dotation", pd.Series(levels, index=index, dtype=object), state, pd.Series(notes, index=index))
    cols.put("sous_dotation_motif", pd.Series(motifs, index=index, dtype=object), state)
