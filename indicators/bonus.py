"""Bonus territoire CTG for new PSU places in EAJE, per commune (domain.md §1.2 and §5.2): one status per commune.

State model (``docs/diagnostic.md``), one status and one sentence shown identically on the map, hover, card, table,
fiche and exports (:func:`bonus_resume` is the only place that words it):
- « applicable »: a signed CTG covers the commune or its EPCI and the tranche is known → € per new place and year;
- « si CTG signée »: the tranche is known but no signed CTG covers the commune (CTG « en cours », « à renouveler »,
  commune absent from the CAF list, or no list at all) → the amount it *would* pay once a CTG is signed;
- « à confirmer »: the amount cannot be stated — the tranche needs data we lack (potentiel financier, niveau de vie,
  zoning) or a barème line still unconfirmed (intermediate tranches, FRR counted as rural zone) → the range
  2 600 – 3 600 € and what is missing;
- « non »: the CAF list says « non signée » (no CTG and none negotiated) → 0 € for the period.

Tranche rule: tranche 1 (maximum, 3 600 € since 2021) for a commune in a QPV or in the rural priority zoning chosen
by ``Params.zonage_rural`` (ZRR 2017 by default, as the CNAF texts still say; FRR is a parameter because the switch
is unconfirmed). The ZRR set is the communes « classées » of the official list (``ZONAGE_ZRR`` = C); the
« sortantes » (A, effects maintained until 2020) are not in it. Other tranches depend on the potentiel financier and
the niveau de vie against references: those rules are UNCONFIRMED (domain.md §1.2 [U]), so a commune that needs
them is « à confirmer ».
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geodata.numbers import format_number
from indicators.common import Context
from indicators.params import Params
from indicators.table import ND, VALUE, Cols

NOTE_A_CONFIRMER = "à confirmer"

STATUT_APPLICABLE = "applicable"
STATUT_SI_CTG = "si CTG signée"
STATUT_A_CONFIRMER = NOTE_A_CONFIRMER
STATUT_NON = "non"
BONUS_STATUTS = (STATUT_APPLICABLE, STATUT_SI_CTG, STATUT_A_CONFIRMER, STATUT_NON)
"""Every status of the bonus, in legend order."""
PER_PLACE = "par place nouvelle et par an"


def euros(value: float) -> str:
    """« 3 600 € », the form of the bonus sentence in every view (plain spaces, as it has always been written)."""
    return format_number(value, 0, group=" ") + " €"


def bonus_resume(statut: str, tranche: str, montant: float, low: float, high: float, why: str) -> str:
    """The one sentence every view shows for the bonus of a commune (card, hover, table, fiche, exports)."""
    if statut == STATUT_NON:
        return f"{STATUT_NON} : 0 € ({why})"
    if statut == STATUT_A_CONFIRMER:
        span = f"{euros(low)[:-2]} – {euros(high)}" if low != high else euros(low)
        return f"{STATUT_A_CONFIRMER} : {span} {PER_PLACE} ({why})"
    return f"{statut} : {euros(montant)} {PER_PLACE} ({tranche})"


def _ctg_status(ctx: Context, params: Params) -> tuple[pd.Series, pd.Series]:
    """Per commune: ``signée`` / ``non`` / ``autre`` and the French phrase naming the CTG row used."""
    base = ctx.base
    ctg = ctx.layer("caf_ctg")
    if ctg is None:
        other = pd.Series("autre", index=base.index, dtype=object)
        return other, pd.Series("liste des CTG absente : statut de la CTG inconnu", index=base.index, dtype=object)
    signed_set = {s.strip().lower() for s in params.ctg_statuts_signes}
    non_set = {s.strip().lower() for s in params.ctg_statuts_non}
    rows = ctg.assign(
        _level=ctg["niveau"].astype(str).str.strip().str.lower(),
        _status=ctg["statut"].astype(str).str.strip(),
        _code=ctg["code"].astype(str),
    )
    commune = rows[rows["_level"] == "commune"].drop_duplicates("_code", keep="last").set_index("_code")["_status"]
    epci = rows[rows["_level"] == "epci"].drop_duplicates("_code", keep="last").set_index("_code")["_status"]
    own = base.index.to_series().map(commune).astype(object)
    group = base["epci_code"].map(epci).astype(object)
    own_signed = own.str.lower().isin(signed_set)
    group_signed = group.str.lower().isin(signed_set) & (base["epci_code"] != "")
    # The bonus applies when the co-funding collectivity (commune or EPCI) has signed: either row suffices.
    status = pd.Series("autre", index=base.index, dtype=object)
    status[own_signed | group_signed] = "signée"
    shown = own.where(own.notna(), group)
    refused = ~(own_signed | group_signed) & shown.str.lower().isin(non_set)
    status[refused] = "non"
    phrase = pd.Series(
        np.select(
            [own_signed, group_signed, own.notna(), group.notna()],
            [
                "CTG signée par la commune",
                "CTG signée par l'EPCI (" + base["epci_nom"].astype(str) + ")",
                "CTG de la commune : " + own.astype(str),
                "CTG de l'EPCI (" + base["epci_nom"].astype(str) + ") : " + group.astype(str),
            ],
            "commune et EPCI absents de la liste des CTG",
        ),
        index=base.index,
        dtype=object,
    )
    return status, phrase


Columns = Mapping[str, pd.Series]
"""Commune columns by indicator id: the ``values``/``states`` of a :class:`~indicators.table.Cols` being computed,
or the frames of a computed :class:`~indicators.compute.IndicatorResult` (both index ``[id]`` to a Series)."""


def _flag(states: Columns, key: str, test: pd.Series) -> pd.Series:
    """True / False / None (unknown) per commune from a category or count column."""
    known = states[key] == VALUE
    flags = [bool(t) if k else None for k, t in zip(known.to_numpy(), test.to_numpy(), strict=True)]
    return pd.Series(flags, index=test.index, dtype=object)


def priority_zone_flags(values: Columns, states: Columns, params: Params) -> list[tuple[str, dict[str, bool | None]]]:
    """Zonings counted as priority (QPV + the rural zoning of ``params.zonage_rural``), each True/False/None.

    The one home of the priority-zone rule: the bonus tranche, the under-served levels and the fiche's map use it.
    Returned as dicts keyed by commune code: the per-commune loops look them up 35 000 times at national scale.
    """
    in_qpv = _flag(states, "qpv", values["qpv"].fillna(0) > 0)
    # ZRR = the « communes classées » only (ZONAGE_ZRR = C: 124 in dept 66); the « sortantes » (A) are not counted.
    in_zrr = _flag(states, "zrr_classee", values["zrr_classee"] == "classée")
    in_frr = _flag(states, "frr_classement", values["frr_classement"].isin(params.frr_classes_prioritaires))
    rural = {"zrr2017": [("ZRR 2017 (classée)", in_zrr)], "frr2025": [("FRR", in_frr)]}
    rural["les_deux"] = rural["zrr2017"] + rural["frr2025"]
    return [(name, flag.to_dict()) for name, flag in [("QPV", in_qpv), *rural[params.zonage_rural]]]


def zone_hits(flags: list[tuple[str, dict[str, bool | None]]], code: str) -> tuple[list[str], list[str]]:
    """Names of the priority zonings the commune is in, and of those unknown for it."""
    hits = [name for name, flag in flags if flag[code] is True]
    unknown = [name for name, flag in flags if flag[code] is None]
    return hits, unknown


def priority_status(values: Columns, states: Columns, params: Params) -> pd.Series:
    """Per commune: True in a priority zoning, False known to be in none, None (object) when a zoning it might be in
    is unknown — never read as « not priority »."""
    flags = priority_zone_flags(values, states, params)
    index = values["qpv"].index
    status: list[bool | None] = []
    for code in index:
        hits, unknown = zone_hits(flags, code)
        status.append(True if hits else None if unknown else False)
    return pd.Series(status, index=index, dtype=object)


def compute_bonus(ctx: Context, cols: Cols, params: Params) -> pd.DataFrame:
    """Per commune: ``statut`` (one of :data:`BONUS_STATUTS`), ``tranche``, ``montant`` (€/place/year; the amount
    it would pay for « si CTG signée », 0 for « non », NaN for « à confirmer »), ``montant_min``/``montant_max``,
    ``manque`` (what an « à confirmer » lacks), ``ctg`` (``signée``, ``non`` or ``autre``), ``resume`` (the shared
    sentence) and ``motif`` (the full reason).

    Also fills the ``bonus_*`` columns of ``cols``.
    """
    base = ctx.base
    bareme = params.bareme
    ctg, ctg_phrase = _ctg_status(ctx, params)
    zone_flags = priority_zone_flags(cols.values, cols.states, params)
    # Plain dicts: Series indexing per commune dominated the run time at national scale.
    pf, nv = cols.values["potentiel_financier_hab"].to_dict(), cols.values["med_niveau_vie"].to_dict()
    pf_state = cols.states["potentiel_financier_hab"].to_dict()
    nv_state = cols.states["med_niveau_vie"].to_dict()
    ctg, ctg_phrase = ctg.to_dict(), ctg_phrase.to_dict()

    rows = []
    for code in base.index:
        hits, unknown = zone_hits(zone_flags, code)
        tranche, montant, missing = "selon richesse", np.nan, ""
        if hits:
            t = bareme.tranche("zone_prioritaire")
            tranche, montant = t.id, t.montant
            reason = f"commune en {' et '.join(hits)} : tranche maximale"
            if hits == ["FRR"]:
                # The CNAF texts name ZRR; counting FRR instead is a parameter choice still to confirm.
                missing = "prise en compte des FRR par la Cnaf à confirmer"
            elif t.a_confirmer:
                missing = "montant de la tranche 1 à confirmer"
        elif unknown:
            missing = f"zonage prioritaire inconnu ({', '.join(unknown)} absent)"
            reason = f"hors QPV connu, {missing}"
        elif pf_state[code] != VALUE or nv_state[code] != VALUE:
            parts = []
            if pf_state[code] != VALUE:
                parts.append("potentiel financier absent")
            if nv_state[code] != VALUE:
                parts.append("niveau de vie " + ("secret" if nv_state[code] == "secret" else "absent"))
            missing = " et ".join(parts)
            reason = f"hors zone prioritaire, {missing} : tranche selon richesse"
        else:
            low_pf = pf[code] < params.pf_reference_eur_hab
            low_nv = nv[code] < params.nv_reference_eur
            condition = "pf_et_nv_bas" if low_pf and low_nv else "pf_ou_nv_bas" if low_pf or low_nv else "autres"
            t = bareme.tranche(condition)
            tranche, montant = t.id, t.montant
            if t.a_confirmer:
                missing = f"montant de la {t.id} non confirmé (annexe du barème Cnaf)"
            reason = (
                f"hors zone prioritaire ; potentiel financier {pf[code]:.0f} €/hab "
                f"{'<' if low_pf else '≥'} {params.pf_reference_eur_hab:.0f} € et niveau de vie médian "
                f"{euros(nv[code])} {'<' if low_nv else '≥'} {euros(params.nv_reference_eur)} : {t.libelle}"
            )
        low = high = montant
        if ctg[code] == "non":
            statut, why = STATUT_NON, ctg_phrase[code]
            if montant == montant and not missing:
                reason += f" ; si une CTG était signée : {euros(montant)} {PER_PLACE}"
            montant = low = high = 0.0
        elif missing:
            statut, why = STATUT_A_CONFIRMER, missing
            montant, low, high = np.nan, bareme.montant_min, bareme.montant_max
        elif ctg[code] == "signée":
            statut, why = STATUT_APPLICABLE, ""
        else:
            statut, why = STATUT_SI_CTG, ""
        resume = bonus_resume(statut, tranche, montant, low, high, why)
        motif = f"{ctg_phrase[code]} ; {reason} → {resume}"
        rows.append((code, statut, tranche, float(montant), float(low), float(high), missing, ctg[code], resume, motif))
    columns = [
        "code", "statut", "tranche", "montant", "montant_min", "montant_max", "manque", "ctg", "resume", "motif"
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).set_index("code")
    frame.index.name = None

    notes = frame["statut"].where(frame["statut"] != STATUT_APPLICABLE, "").astype(object)
    cols.put("bonus_statut", frame["statut"].astype(object))
    cols.put("bonus_tranche", frame["tranche"].astype(object), notes=notes)
    amount_notes = frame["resume"].where(frame["montant"].isna(), notes).astype(object)
    cols.put(
        "bonus_montant",
        frame["montant"],
        pd.Series(np.where(frame["montant"].notna(), VALUE, ND), index=frame.index, dtype=object),
        amount_notes,
    )
    cols.put("bonus_resume", frame["resume"].astype(object))
    cols.put("bonus_motif", frame["motif"].astype(object))
    return frame
