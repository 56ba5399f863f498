"""Bonus territoire CTG for new PSU places in EAJE, per commune (domain.md §1.2 and §5.2).

Rule: the bonus applies where a signed CTG covers the commune or its EPCI. Tranche 1 (maximum, 3 600 € since 2021)
for a commune in a QPV or in the rural priority zoning chosen by ``Params.zonage_rural`` (ZRR 2017 by default, as
the CNAF texts still say; FRR is a parameter because the switch is unconfirmed). The ZRR set is the communes
« classées » of the official list (``ZONAGE_ZRR`` = C); the « sortantes » (A, effects maintained) are not in it.
Other tranches depend on the potentiel financier and the niveau de vie against references: those rules are
UNCONFIRMED, so every result using them carries « à confirmer ». Without the potentiel financier (or a secret
niveau de vie) no tranche is guessed: the amount is nd and the motif gives the range « 2 600 – 3 600 € selon
richesse (à confirmer) ».

Amount semantics: ``non`` (no signed CTG) → 0 € (a true zero: the bonus does not apply); ``CTG inconnue`` → the
tranche amount, flagged, because it applies only if a CTG is signed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.common import Context
from indicators.params import Params
from indicators.table import ND, VALUE, Cols, join_notes

NOTE_A_CONFIRMER = "à confirmer"


def euros(value: float) -> str:
    """« 3 600 € » (French thousands separator)."""
    return f"{value:,.0f}".replace(",", " ") + " €"


def range_text(params: Params) -> str:
    """The amount range shown when the tranche cannot be determined."""
    b = params.bareme
    return f"{euros(b.montant_min)[:-2]} – {euros(b.montant_max)} selon richesse ({NOTE_A_CONFIRMER})"


def _ctg_status(ctx: Context, params: Params) -> tuple[pd.Series, pd.Series]:
    base = ctx.base
    ctg = ctx.layer("caf_ctg")
    if ctg is None:
        unknown = pd.Series("CTG inconnue", index=base.index, dtype=object)
        return unknown, pd.Series("liste des CTG absente : statut inconnu", index=base.index, dtype=object)
    signed_set = {s.strip().lower() for s in params.ctg_statuts_signes}
    signed = ctg[ctg["statut"].astype(str).str.strip().str.lower().isin(signed_set)]
    level = signed["niveau"].astype(str).str.strip().str.lower()
    communes = set(signed.loc[level == "commune", "code"].astype(str))
    epcis = set(signed.loc[level == "epci", "code"].astype(str))
    by_commune = base.index.to_series().isin(communes)
    by_epci = base["epci_code"].isin(epcis) & (base["epci_code"] != "")
    applicable = pd.Series(np.where(by_commune | by_epci, "oui", "non"), index=base.index, dtype=object)
    motif = np.select(
        [by_commune, by_epci],
        ["CTG signée par la commune", "CTG signée par l'EPCI (" + base["epci_nom"].astype(str) + ")"],
        "aucune CTG signée couvrant la commune ou son EPCI",
    )
    return applicable, pd.Series(motif, index=base.index, dtype=object)


def _flag(cols: Cols, key: str, test: pd.Series) -> pd.Series:
    """True / False / None (unknown) per commune from a category or count column."""
    known = cols.states[key] == VALUE
    flags = [bool(t) if k else None for k, t in zip(known.to_numpy(), test.to_numpy(), strict=True)]
    return pd.Series(flags, index=test.index, dtype=object)


def priority_zone_flags(cols: Cols, params: Params) -> list[tuple[str, dict[str, bool | None]]]:
    """Zonings counted as priority (QPV + the rural zoning of ``params.zonage_rural``), each True/False/None.

    Returned as dicts keyed by commune code: the per-commune loops look them up 35 000 times at national scale.
    """
    in_qpv = _flag(cols, "qpv", cols.values["qpv"].fillna(0) > 0)
    # ZRR = the « communes classées » only (ZONAGE_ZRR = C: 124 in dept 66); the « sortantes » (A) are not counted.
    in_zrr = _flag(cols, "zrr_classee", cols.values["zrr_classee"] == "classée")
    in_frr = _flag(cols, "frr_classement", cols.values["frr_classement"].isin(params.frr_classes_prioritaires))
    rural = {"zrr2017": [("ZRR 2017 (classée)", in_zrr)], "frr2025": [("FRR", in_frr)]}
    rural["les_deux"] = rural["zrr2017"] + rural["frr2025"]
    return [(name, flag.to_dict()) for name, flag in [("QPV", in_qpv), *rural[params.zonage_rural]]]


def zone_hits(flags: list[tuple[str, dict[str, bool | None]]], code: str) -> tuple[list[str], list[str]]:
    """Names of the priority zonings the commune is in, and of those unknown for it."""
    hits = [name for name, flag in flags if flag[code] is True]
    unknown = [name for name, flag in flags if flag[code] is None]
    return hits, unknown


def compute_bonus(ctx: Context, cols: Cols, params: Params) -> pd.DataFrame:
    """Per commune: ``applicable``, ``tranche``, ``montant`` (€/place/year), ``motif``, ``a_confirmer``.

    Also fills the ``bonus_*`` columns of ``cols``.
    """
    base = ctx.base
    bareme = params.bareme
    applicable, ctg_motif = _ctg_status(ctx, params)
    zone_flags = priority_zone_flags(cols, params)
    # Plain dicts: Series indexing per commune dominated the run time at national scale.
    pf, nv = cols.values["potentiel_financier_hab"].to_dict(), cols.values["med_niveau_vie"].to_dict()
    pf_state = cols.states["potentiel_financier_hab"].to_dict()
    nv_state = cols.states["med_niveau_vie"].to_dict()

    rows = []
    for code in base.index:
        hits, unknown = zone_hits(zone_flags, code)
        confirm = False
        if hits:
            t = bareme.tranche("zone_prioritaire")
            where = " et ".join(hits)
            reason = f"commune en {where} : tranche maximale"
            # The CNAF texts name ZRR; counting FRR instead is a parameter choice still to confirm.
            confirm = t.a_confirmer or hits == ["FRR"]
            tranche, montant = t.id, t.montant
        elif unknown:
            tranche, montant = "selon richesse", np.nan
            reason = f"zonage prioritaire inconnu ({', '.join(unknown)} absent) : {range_text(params)}"
            confirm = True
        elif pf_state[code] != VALUE or nv_state[code] != VALUE:
            tranche, montant = "selon richesse", np.nan
            missing = []
            if pf_state[code] != VALUE:
                missing.append("potentiel financier absent")
            if nv_state[code] != VALUE:
                missing.append("niveau de vie " + ("secret" if nv_state[code] == "secret" else "absent"))
            reason = f"hors zone prioritaire, {' et '.join(missing)} : {range_text(params)}"
            confirm = True
        else:
            low_pf = pf[code] < params.pf_reference_eur_hab
            low_nv = nv[code] < params.nv_reference_eur
            condition = "pf_et_nv_bas" if low_pf and low_nv else "pf_ou_nv_bas" if low_pf or low_nv else "autres"
            t = bareme.tranche(condition)
            tranche, montant, confirm = t.id, t.montant, t.a_confirmer
            reason = (
                f"hors zone prioritaire ; potentiel financier {pf[code]:.0f} €/hab "
                f"{'<' if low_pf else '≥'} {params.pf_reference_eur_hab:.0f} € et niveau de vie médian "
                f"{euros(nv[code])} {'<' if low_nv else '≥'} {euros(params.nv_reference_eur)} : {t.libelle}"
            )
        status = applicable[code]
        if status == "non":
            shown = f"{tranche}, {euros(montant)}" if montant == montant else range_text(params)
            motif = f"{ctg_motif[code]} : bonus non applicable (si une CTG est signée : {shown} ; {reason})"
            montant, confirm = 0.0, False
        else:
            amount = f"{euros(montant)} par place nouvelle et par an" if montant == montant else "montant nd"
            motif = f"{ctg_motif[code]} ; {reason} → {amount}"
            if confirm and NOTE_A_CONFIRMER not in motif:
                motif += f" ({NOTE_A_CONFIRMER})"
        rows.append((code, status, tranche, float(montant), motif, bool(confirm)))
    frame = pd.DataFrame(rows, columns=["code", "applicable", "tranche", "montant", "motif", "a_confirmer"])
    frame = frame.set_index("code")
    frame.index.name = None

    notes = pd.Series(np.where(frame["a_confirmer"], NOTE_A_CONFIRMER, ""), index=frame.index, dtype=object)
    unknown_ctg = frame["applicable"] == "CTG inconnue"
    amount_notes = notes.where(~unknown_ctg, notes.map(lambda n: join_notes("CTG inconnue", n)))
    cols.put("bonus_applicable", frame["applicable"].astype(object))
    cols.put("bonus_tranche", frame["tranche"].astype(object), notes=notes)
    cols.put(
        "bonus_montant",
        frame["montant"],
        pd.Series(np.where(frame["montant"].notna(), VALUE, ND), index=frame.index, dtype=object),
        amount_notes,
    )
    cols.put("bonus_motif", frame["motif"].astype(object))
    return frame
