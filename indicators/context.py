"""Context indicators: population, ages, income, density, typologies, zonages (QPV, ZRR, FRR), potentiel financier.

Secret statistics (Filosofi) stay secret: state ``secret``, value NaN. A commune missing from a layer that is present
is ``nd`` (not 0), except for zonages where absence from the list means « not in the zone » (a true answer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.common import Context, latest, pair, ratio, sum_states
from indicators.table import ND, VALUE, Cols


def population_class(pop: pd.Series) -> pd.Series:
    """Service public de la petite enfance thresholds (loi du 18 décembre 2023): 3 500 and 10 000 inhabitants.

    An unknown population has no class (None), never « plus de 10 000 »."""
    classes = np.select([pop < 3500, pop <= 10000], ["moins de 3 500", "3 500 à 10 000"], "plus de 10 000")
    return pd.Series(classes, index=pop.index, dtype=object).where(pop.notna(), None)


def compute_context(ctx: Context, cols: Cols, raw: Cols) -> None:
    """Fill the context and zonage columns (commune level) and the raw components their aggregation needs.

    A population the base lacks (Mayotte, a commune missing from the file) is ``nd`` with its reason, and so is
    everything divided by it; its aggregates (EPCI, département) are ``nd`` too, never a partial sum."""
    base, index = ctx.base, ctx.base.index
    pop = base["population"].astype(float)
    pop_state = pd.Series(np.where(pop.notna(), VALUE, ND), index=index, dtype=object)
    pop_note = base.get("population_note", "")
    cols.put("population", pop, pop_state, pop_note)
    raw.put("_pop", pop, pop_state)
    cols.put("classe_population", population_class(pop), pop_state, pop_note)
    raw.put("_area", base["area_km2"])
    cols.put("densite_hab_km2", ratio(pop, base["area_km2"], 1.0), pop_state, pop_note)

    _children(ctx, cols, raw)

    filo = ctx.layer("filosofi2021")
    if filo is None:
        for key in ("med_niveau_vie", "taux_pauvrete"):
            cols.put_nd(key, "Filosofi absent")
        raw.put_nd("_tp60_x_pers")
        raw.put_nd("_pers")
    else:
        med, smed = pair(filo, "med", index)
        tp, stp = pair(filo, "tp60", index)
        pers, spers = pair(filo, "nb_personnes", index)
        cols.put("med_niveau_vie", med, smed)
        cols.put("taux_pauvrete", tp, stp)
        # Poverty rate aggregates as Σ(rate × persons) / Σ persons: secret as soon as one member is secret.
        raw.put("_tp60_x_pers", tp * pers, sum_states(stp, spers))
        raw.put("_pers", pers, spers)

    pf = ctx.layer("dgcl_pf")
    if pf is None:
        cols.put_nd("potentiel_financier_hab", "potentiel financier (DGCL) absent")
        raw.put_nd("_pf_x_popdgf")
        raw.put_nd("_popdgf")
    else:
        pf_hab, spf = pair(pf, "pf_hab", index)
        pop_dgf = pd.to_numeric(latest(pf).set_index("code_commune")["population_dgf"], errors="coerce")
        pop_dgf = pop_dgf.reindex(index).astype(float)
        cols.put("potentiel_financier_hab", pf_hab, spf)
        sdgf = pd.Series(np.where(pop_dgf.notna(), VALUE, ND), index=index, dtype=object)
        raw.put("_pf_x_popdgf", pf_hab * pop_dgf, sum_states(spf, sdgf))
        raw.put("_popdgf", pop_dgf, sdgf)

    typo = ctx.layer("anct_typologies")
    for key, col in (("densite_categorie", "densite"), ("ruralite", "ruralite"), ("centralite", "centralite")):
        if typo is None or col not in typo:
            cols.put_nd(key, "typologies ANCT absentes")
        else:
            values = typo.drop_duplicates("code_commune").set_index("code_commune")[col].astype(object)
            values = values.where(values.astype(str).str.strip() != "", None)
            cols.put(key, values.reindex(index))
    if typo is None or "montagne" not in typo:
        cols.put_nd("montagne", "typologies ANCT absentes")
    else:
        # The publisher lists only mountain communes: absence means « hors montagne » (a real answer).
        massif = typo.drop_duplicates("code_commune").set_index("code_commune")["montagne"].astype(object)
        massif = massif.reindex(index).fillna("").astype(str).str.strip()
        cols.put("montagne", massif.where(massif != "", "hors montagne").astype(object))

    _zonages(ctx, cols, raw)


NOTE_ENFANTS_COUVERTS = "enfants couverts par la Caf (extrait)"


def _children(ctx: Context, cols: Cols, raw: Cols) -> None:
    """Children 0-2 and 3-10: Insee RP when imported, else the Caf « enfants couverts » of the demand extract.

    Why this order (domain.md §2.1): the CNAF rates divide by all children living in the territory (Insee); the
    children of allocataire families (« enfants couverts ») are the next best count. The raw components carry the
    source in their notes, so every rate built on them can say what it divides by.
    """
    index = ctx.base.index
    ages = ctx.layer("pop_age")
    demande = ctx.layer("caf_demande")
    if ages is not None:
        p02, s02 = pair(ages, "pop_0002", index)
        p35, s35 = pair(ages, "pop_0305", index)
        p610, s610 = pair(ages, "pop_0610", index)
        s310 = sum_states(s35, s610)
        year = f" {int(ages['annee'].max())}" if "annee" in ages and len(ages) else ""
        bands = ((p02, s02), (p35 + p610, s310))
        source, absent = f"Insee, recensement{year}", "commune absente du fichier de population par âge"
    elif demande is not None and {"enfants_0_2", "enfants_3_10"} <= set(demande.columns):
        bands = (pair(demande, "enfants_0_2", index), pair(demande, "enfants_3_10", index))
        source, absent = NOTE_ENFANTS_COUVERTS, "commune absente de l'extrait Caf « demande »"
    else:
        for key in ("pop_moins3", "pop_3_10", "_pop_0002", "_pop_0310"):
            (raw if key.startswith("_") else cols).put_nd(key, "population par âge absente")
        return
    shown = "" if ages is not None else source
    for (values, states), (public, hidden) in zip(bands, (("pop_moins3", "_pop_0002"), ("pop_3_10", "_pop_0310")),
                                                  strict=True):  # fmt: skip
        cols.put(public, values, states, pd.Series(np.where(states == ND, absent, shown), index=index))
        raw.put(hidden, values, states, pd.Series(np.where(states == ND, absent, source), index=index))


def _zonages(ctx: Context, cols: Cols, raw: Cols) -> None:
    index = ctx.base.index
    q24, q15 = ctx.layer("qpv2024"), ctx.layer("qpv2015")
    if q24 is not None:
        count = q24.drop_duplicates(["code_qp", "code_commune"]).groupby("code_commune").size()
        cols.put("qpv", count.reindex(index, fill_value=0).astype(float), notes="QPV 2024")
    elif q15 is not None:
        count = q15.drop_duplicates(["code_qp", "code_commune"]).groupby("code_commune").size()
        cols.put("qpv", count.reindex(index, fill_value=0).astype(float), notes="QPV 2015 (liste 2024 absente)")
    else:
        cols.put_nd("qpv", "liste des QPV absente")
    pop = ctx.base["population"].astype(float)
    if q15 is None or "population" not in q15:
        cols.put_nd("qpv_part_pop", "populations des QPV 2015 absentes")
        raw.put_nd("_qpv_pop")
    else:
        rows = q15.drop_duplicates(["code_qp", "code_commune"])
        qpop = pd.to_numeric(rows["population"], errors="coerce")
        unknown = qpop.isna().groupby(rows["code_commune"].to_numpy()).any().reindex(index, fill_value=False)
        total = qpop.fillna(0.0).groupby(rows["code_commune"].to_numpy()).sum().reindex(index, fill_value=0.0)
        states = pd.Series(np.where(unknown, ND, VALUE), index=index, dtype=object)
        note = "population des QPV 2015"
        if q24 is not None:
            # A commune with a 2024 QPV but none in 2015 has an unknown QPV population.
            new = cols.values["qpv"].fillna(0) > 0
            states = states.where(~(new & (total == 0)), ND)
        cols.put("qpv_part_pop", ratio(total, pop, 100.0).where(pop > 0), states, note)
        raw.put("_qpv_pop", total, states)

    zrr = ctx.layer("zrr2017")
    if zrr is None:
        cols.put_nd("zrr_classee", "ZRR 2017 absentes")
    else:
        rows = zrr.drop_duplicates("code_commune").set_index("code_commune")
        if "statut" in rows:
            values = rows["statut"].astype(object).reindex(index)
        else:  # a bundle built before the statuses: only the classées flag
            flag = rows["zrr_classee"].astype(bool).reindex(index)
            values = flag.map({True: "classée", False: "non classée"}).astype(object)
        cols.put(
            "zrr_classee",
            values,
            notes=pd.Series(np.where(values.isna(), "commune absente du fichier ZRR", ""), index=index),
        )
    frr = ctx.layer("frr2025")
    if frr is None:
        cols.put_nd("frr_classement", "FRR absentes")
    else:
        values = frr.drop_duplicates("code_commune").set_index("code_commune")["classement"].astype(object)
        cols.put("frr_classement", values.reindex(index))
