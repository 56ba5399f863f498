"""Offer indicators: structures and places by type, places per 100 children, CAF coverage rates.

A present layer with no structure in a commune gives a true 0 (state ``valeur``); an absent layer gives ``nd``.
CAF coverage rates are published by the CNAF for communes over 10 000 inhabitants only: the others get the rate of
their EPCI, flagged « taux de l'EPCI ».
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.common import Context, count_by_commune, ratio, sum_by_commune
from indicators.context import NOTE_ENFANTS_COUVERTS
from indicators.params import Params
from indicators.table import ND, VALUE, Cols, state_from_layer

NOTE_DILA = "annuaire 2016"


def structure_points(ctx: Context) -> dict[str, tuple[pd.DataFrame | None, str]]:
    """Point tables used for counts and distances, by structure type, with a note on the source used."""
    out: dict[str, tuple[pd.DataFrame | None, str]] = {
        "eaje": (ctx.layer("caf_eaje"), ""),
        "alsh": (ctx.layer("caf_alsh"), ""),
        "centre_social": (ctx.layer("caf_centres_sociaux"), ""),
        "france_services": (ctx.layer("france_services"), ""),
    }
    caf = ctx.layer("caf_accueils")
    dila = ctx.layer("dila_annuaire_2016")
    if caf is not None:
        out["caf"] = (caf, "")
    elif dila is not None:
        out["caf"] = (dila[dila["type"].astype(str).str.lower() == "caf"], NOTE_DILA)
    else:
        out["caf"] = (None, "")
    return out


def compute_offer(ctx: Context, cols: Cols, raw: Cols, params: Params) -> None:
    """Fill the offer columns at commune level, and the published coverage rates of higher levels."""
    index = ctx.base.index
    pop = ctx.base["population"].astype(float)
    points = structure_points(ctx)

    eaje = ctx.layer("caf_eaje")
    eaje_ids = (
        "eaje_nb",
        "eaje_places",
        "eaje_places_psu",
        "eaje_places_hors_psu",
        "micro_creche_paje_nb",
        "micro_creche_paje_places",
        "eaje_places_100_moins3",
        "eaje_places_1000_hab",
    )
    if eaje is None:
        for key in eaje_ids:
            cols.put_nd(key, "extrait CAF des EAJE absent")
        raw.put_nd("_eaje_places")
    else:
        psu = eaje["psu"].fillna(False).astype(bool)
        micro = ~psu & eaje["type_accueil"].astype(str).str.contains("micro", case=False, na=False)
        places = sum_by_commune(eaje, "places", index)
        cols.put("eaje_nb", count_by_commune(eaje, index))
        cols.put("eaje_places", places)
        cols.put("eaje_places_psu", sum_by_commune(eaje, "places", index, psu))
        cols.put("eaje_places_hors_psu", sum_by_commune(eaje, "places", index, ~psu))
        cols.put("micro_creche_paje_nb", count_by_commune(eaje, index, micro))
        cols.put("micro_creche_paje_places", sum_by_commune(eaje, "places", index, micro))
        raw.put("_eaje_places", places)
        cols.put("eaje_places_1000_hab", ratio(places, pop, 1000.0))
        if "_pop_0002" not in raw.values or (raw.states["_pop_0002"] == ND).all():
            cols.put_nd("eaje_places_100_moins3", "population par âge absente")
        else:
            _per_children(cols, "eaje_places_100_moins3", places, raw, "_pop_0002", "enfant de moins de 3 ans")

    alsh = ctx.layer("caf_alsh")
    if alsh is None:
        for key in ("alsh_nb", "alsh_places", "alsh_places_100_3_10"):
            cols.put_nd(key, "extrait CAF des ALSH absent")
        raw.put_nd("_alsh_places")
    else:
        place_cols = [c for c in ("places_periscolaire", "places_mercredi", "places_vacances") if c in alsh]
        capacity = alsh[place_cols].apply(pd.to_numeric, errors="coerce").max(axis=1)
        unknown = capacity.isna().groupby(alsh["code_commune"].to_numpy()).sum().reindex(index, fill_value=0)
        notes = pd.Series(
            np.where(unknown > 0, unknown.astype(int).astype(str) + " ALSH sans capacité renseignée", ""), index=index
        )
        places = sum_by_commune(alsh.assign(_cap=capacity), "_cap", index)
        cols.put("alsh_nb", count_by_commune(alsh, index))
        cols.put("alsh_places", places, notes=notes)
        raw.put("_alsh_places", places)
        if "_pop_0310" not in raw.values or (raw.states["_pop_0310"] == ND).all():
            cols.put_nd("alsh_places_100_3_10", "population par âge absente")
        else:
            _per_children(cols, "alsh_places_100_3_10", places, raw, "_pop_0310", "enfant de 3 à 10 ans")

    cs = ctx.layer("caf_centres_sociaux")
    if cs is None:
        cols.put_nd("centres_sociaux_nb", "extrait CAF des centres sociaux absent")
        cols.put_nd("evs_nb", "extrait CAF des centres sociaux absent")
    else:
        kind = cs["type_structure"].astype(str).str.strip().str.lower()
        cols.put("centres_sociaux_nb", count_by_commune(cs, index, kind.str.startswith("centre")))
        cols.put("evs_nb", count_by_commune(cs, index, kind == "evs"))

    caf, caf_note = points["caf"]
    if caf is None:
        cols.put_nd("caf_accueils_nb", "liste des accueils CAF absente")
    else:
        cols.put("caf_accueils_nb", count_by_commune(caf, index), notes=caf_note)

    fs = ctx.layer("france_services")
    if fs is None:
        cols.put_nd("france_services_nb", "liste France services absente")
    else:
        cols.put("france_services_nb", count_by_commune(fs, index))

    bpe = ctx.layer("bpe")
    for key, cats in (("laep_nb", {"laep"}), ("rpe_nb", {"rpe"}), ("bpe_eaje_nb", {"eaje", "micro_creche"})):
        if bpe is None:
            cols.put_nd(key, "base permanente des équipements absente")
        else:
            year = f"BPE {int(bpe['annee'].max())}" if "annee" in bpe and len(bpe) else "BPE"
            cols.put(key, count_by_commune(bpe, index, bpe["categorie"].isin(cats)), notes=year)

    _coverage(ctx, cols, params)


def _per_children(cols: Cols, key: str, places: pd.Series, raw: Cols, den_key: str, label: str) -> None:
    den, den_states = raw.values[den_key], raw.states[den_key]
    value = ratio(places, den, 100.0)
    states = den_states.where(~((den_states == VALUE) & value.isna()), ND)
    # Say what the children are when they are not the Insee count (the Caf « enfants couverts »).
    source = raw.notes[den_key].where(raw.notes[den_key] == NOTE_ENFANTS_COUVERTS, "")
    notes = pd.Series(np.where((den_states == VALUE) & (den == 0), f"aucun {label}", source), index=den.index)
    cols.put(key, value, states, notes)


def _latest_year(df: pd.DataFrame) -> pd.DataFrame:
    if not len(df):
        return df
    return df[df["annee"] == df["annee"].max()].drop_duplicates("code", keep="last")


def _rate(rows: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    rows = rows.set_index(rows["code"].astype(str))
    values = pd.to_numeric(rows[col], errors="coerce").astype(float)
    etat = f"{col}_etat"
    states = (
        state_from_layer(rows[etat])
        if etat in rows
        else pd.Series(np.where(values.notna(), VALUE, ND), index=rows.index, dtype=object)
    )
    return values, states


NOTE_TX_CAF = "taux communal de l'extrait Caf"
NOTE_TX_EPCI = "taux de l'EPCI"


def _extract_rates(ctx: Context, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Commune coverage rates of the Caf « demande » extract (the CNAF publishes none under 10 000 inhabitants)."""
    demande = ctx.layer("caf_demande")
    if demande is None or "taux_couverture" not in demande:
        return pd.Series(np.nan, index=index), pd.Series(ND, index=index, dtype=object)
    rows = demande.drop_duplicates("code_commune", keep="last").set_index("code_commune")
    values = pd.to_numeric(rows["taux_couverture"], errors="coerce").reindex(index)
    return values, pd.Series(np.where(values.notna(), VALUE, ND), index=index, dtype=object)


def _coverage(ctx: Context, cols: Cols, params: Params) -> None:
    """CNAF coverage rates: the commune's own rate (CNAF, else the Caf extract), else the EPCI rate flagged; higher
    levels as published. The France reference is the CNAF national row, else the parameter (source and year)."""
    tx = ctx.layer("caf_txcouv")
    base = ctx.base
    index = base.index
    caf_v, caf_s = _extract_rates(ctx, index)
    if tx is None and not (caf_s == VALUE).any():
        for key in ("txcouv_global", "txcouv_eaje", "ecart_txcouv_global_france"):
            cols.put_nd(key, "taux de couverture Caf absents")
        return
    empty = pd.DataFrame(columns=["niveau", "code", "annee", "txcouv", "txcouv_eaje"])
    tx = tx if tx is not None else empty
    by_level = {lvl: _latest_year(tx[tx["niveau"] == lvl]) for lvl in ("com", "epci", "dep", "nat")}
    france: dict[str, tuple[float, str]] = {}
    for key, col, default in (
        ("txcouv_global", "txcouv", params.tx_global_france),
        ("txcouv_eaje", "txcouv_eaje", params.tx_eaje_france),
    ):
        com_v, com_s = _rate(by_level["com"], col)
        epci_v, epci_s = _rate(by_level["epci"], col)
        com_v, com_s = com_v.reindex(index), com_s.reindex(index).astype(object).fillna(ND)
        has_com = com_s != ND
        notes = pd.Series("", index=index, dtype=object)
        if key == "txcouv_global":
            use_caf = ~has_com & (caf_s == VALUE)
            com_v, com_s = com_v.where(~use_caf, caf_v), com_s.where(~use_caf, VALUE)
            notes[use_caf] = NOTE_TX_CAF
            has_com = has_com | use_caf
        from_epci_v = base["epci_code"].map(epci_v)
        from_epci_s = base["epci_code"].map(epci_s).astype(object).fillna(ND)
        values = com_v.where(has_com, from_epci_v)
        states = com_s.where(has_com, from_epci_s)
        notes[~has_com & (from_epci_s != ND)] = NOTE_TX_EPCI
        if (states == ND).all():
            cols.put_nd(key, "taux de couverture Caf absents")
        else:
            cols.put(key, values, states, notes)
        ctx.published["epci"][key] = (epci_v, epci_s, pd.Series("", index=epci_v.index, dtype=object))
        dep_v, dep_s = _rate(by_level["dep"], col)
        ctx.published["departement"][key] = (dep_v, dep_s, pd.Series("", index=dep_v.index, dtype=object))
        nat_v, nat_s = _rate(by_level["nat"], col)
        if len(nat_v) and (nat_s == VALUE).any():
            value = float(nat_v[nat_s == VALUE].iloc[0])
            france[key] = (value, f"data.caf.fr {int(by_level['nat']['annee'].max())}")
        else:
            france[key] = (default, f"référence {params.tx_france_annee} paramétrée ({params.tx_france_source})")
        fr_index = pd.Index(["FR"])
        ctx.published["france"][key] = (
            pd.Series([france[key][0]], index=fr_index),
            pd.Series([VALUE], index=fr_index, dtype=object),
            pd.Series([france[key][1]], index=fr_index, dtype=object),
        )
    ref, ref_note = france["txcouv_global"]
    ref_note = "" if ref_note.startswith("data.caf.fr") else "France : " + ref_note
    gap = ref - cols.values["txcouv_global"]
    notes = cols.notes["txcouv_global"].map(lambda n: " ; ".join(p for p in (n, ref_note) if p))
    cols.put("ecart_txcouv_global_france", gap, cols.states["txcouv_global"], notes)
    for level in ("epci", "departement"):
        v, s, _ = ctx.published[level]["txcouv_global"]
        ctx.published[level]["ecart_txcouv_global_france"] = (ref - v, s, pd.Series(ref_note, index=v.index))
