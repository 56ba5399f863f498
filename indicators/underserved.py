"""Under-served communes (petite enfance): P1 / P2 / P3 vigilance / couvert, after domain.md §5.3.

Two rules, and the motif of every commune says which one applied (``docs/diagnostic.md``):

- **Coverage rate of the commune** (the CNAF publishes it above 10 000 inhabitants; the Caf may give others in its
  « demande » extract): the CNAF-based ladder of domain.md §5.3 —
  P1 = rate under the France reference AND commune in a priority zone (QPV or the rural zoning parameter);
  P2 = under the France reference AND potentiel financier AND niveau de vie under their references (CNAF 2014);
  P3 vigilance = under the France reference, or under the plan-rebond threshold (58 %); couvert otherwise.
- **Accessibility fallback** (no rate of its own): the same ladder on the E2SFCA accessibility to EAJE places
  (:mod:`indicators.accessibility`) compared with the département level (its demand-weighted mean):
  « deficit » = accessibility under ``ratio_deficit`` × the département level, « vigilance » = under
  ``ratio_vigilance`` × that level.

Departures from domain.md §5.1/§5.3 (documented in ``docs/diagnostic.md``): a commune without its own rate is judged
on its accessibility rather than on its EPCI's rate, because the EPCI rate is the same for every commune of the
EPCI and cannot tell the crèche town from its remote hamlets; the EPCI rate is still quoted in the motif, and used
with the CNAF ladder (flagged) only when no accessibility can be computed (no EAJE extract).
"""

from __future__ import annotations

import pandas as pd

from geodata.numbers import format_number
from indicators.accessibility import Accessibility
from indicators.bonus import priority_zone_flags, zone_hits
from indicators.common import Context
from indicators.offer import NOTE_TX_EPCI
from indicators.params import Params
from indicators.table import ND, VALUE, Cols

NOTE_REPLI = "règle de repli (accessibilité EAJE)"
NOTE_TX = "règle Cnaf (taux de couverture)"
LEVELS = ("P1", "P2", "P3 vigilance", "couvert")


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def compute_underserved(
    ctx: Context, cols: Cols, raw: Cols, params: Params, access: dict[str, Accessibility] | None = None
) -> None:
    """Fill ``sous_dotation`` (category) and ``sous_dotation_motif`` (one French line per commune)."""
    index = ctx.base.index
    flags = priority_zone_flags(cols.values, cols.states, params)
    tx, tx_state, tx_note = cols.values["txcouv_global"], cols.states["txcouv_global"], cols.notes["txcouv_global"]
    france = ctx.published["france"].get("txcouv_global")
    ref = float(france[0].iloc[0]) if france is not None else params.tx_global_france
    pf, pf_state = cols.values["potentiel_financier_hab"], cols.states["potentiel_financier_hab"]
    nv, nv_state = cols.values["med_niveau_vie"], cols.states["med_niveau_vie"]
    eaje = (access or {}).get("eaje") if params.repli_actif else None

    # Plain dicts: Series indexing per commune dominated the run time at national scale.
    tx, tx_state, tx_note = tx.to_dict(), tx_state.to_dict(), tx_note.to_dict()
    pf, pf_state, nv, nv_state = pf.to_dict(), pf_state.to_dict(), nv.to_dict(), nv_state.to_dict()
    acc = eaje.access.to_dict() if eaje is not None else {}
    acc_ref = eaje.reference.to_dict() if eaje is not None else {}
    unit = ("places pour 1 000 hab." if eaje.proxy else "places pour 100 enfants") if eaje is not None else ""
    levels: list[str | None] = []
    motifs: list[str | None] = []
    states: list[str] = []
    notes: list[str] = []
    for code in index:
        hits, unknown = zone_hits(flags, code)
        low_pf = pf_state[code] == VALUE and pf[code] < params.pf_reference_eur_hab
        low_nv = nv_state[code] == VALUE and nv[code] < params.nv_reference_eur
        pf_nv_known = pf_state[code] == VALUE and nv_state[code] == VALUE
        has_rate = tx_state[code] == VALUE
        epci_rate = has_rate and NOTE_TX_EPCI in tx_note[code]
        if has_rate and not (epci_rate and code in acc and acc_ref[code] == acc_ref[code] and acc_ref[code] > 0):
            rule = "taux de couverture" + (" de l'EPCI" if epci_rate else "")
            value = tx[code]
            deficit = value < ref
            deficit_text = f"{rule} {format_number(value)} < France {format_number(ref)}"
            vigilance = value < params.seuil_couverture
            vigilance_text = f"{rule} {format_number(value)} < seuil {format_number(params.seuil_couverture)}"
            covered_text = (
                f"{rule} {format_number(value)} ≥ France {format_number(ref)} "
                f"et ≥ {format_number(params.seuil_couverture)}"
            )
            note = tx_note[code] or NOTE_TX
        elif code in acc and acc_ref[code] == acc_ref[code] and acc_ref[code] > 0:
            value, level_ref = acc[code], acc_ref[code]
            share = value / level_ref
            where = f"accessibilité EAJE {format_number(value)} {unit}"
            context = f" (taux de l'EPCI {format_number(tx[code])})" if epci_rate else ""
            deficit = share < params.ratio_deficit
            if value == 0:
                deficit_text = (
                    f"aucune place d'EAJE à moins de {params.d0_km:g} km (trajet estimé) ; niveau du département "
                    f"{format_number(level_ref)}{context}"
                )
            else:
                deficit_text = (
                    f"{where}, moins de {_pct(params.ratio_deficit)} du niveau du département "
                    f"({format_number(level_ref)}){context}"
                )
            vigilance = share < params.ratio_vigilance
            vigilance_text = f"{where}, {_pct(share)} du niveau du département ({format_number(level_ref)}){context}"
            covered_text = f"{where} ≥ niveau du département ({format_number(level_ref)}){context}"
            note = NOTE_REPLI
        else:
            levels.append(None)
            motifs.append(None)
            states.append(ND)
            notes.append("taux de couverture communal et offre EAJE absents")
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
                motif += (" ; P1/P2 non évaluables : " + ", ".join(gaps)) if gaps else " ; hors zone prioritaire"
        else:
            level, motif = "couvert", covered_text
        levels.append(level)
        motifs.append(motif)
        states.append(VALUE)
        notes.append(note)
    state = pd.Series(states, index=index, dtype=object)
    cols.put("sous_dotation", pd.Series(levels, index=index, dtype=object), state, pd.Series(notes, index=index))
    cols.put("sous_dotation_motif", pd.Series(motifs, index=index, dtype=object), state)


def level_shares(levels: pd.Series) -> dict[str, tuple[int, float]]:
    """Communes and share of communes per level (non disponible included), for legends and reports."""
    counts = levels.astype(object).where(levels.notna(), "non disponible").value_counts()
    total = int(counts.sum())
    return {
        key: (int(counts.get(key, 0)), 100.0 * int(counts.get(key, 0)) / total if total else 0.0)
        for key in (*LEVELS, "non disponible")
    }


__all__ = ["LEVELS", "NOTE_REPLI", "compute_underserved", "level_shares"]
