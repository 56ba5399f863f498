"""« Et si on ouvrait N places de crèche ici ? » — offer, coverage, under-served level and CAF funding, before/after.

Why a simulator: in a partnership meeting the question is never « what is the rate » but « what would N new places
change, and what would the CAF pay ». The answer must be reproducible and honest, so:
- the offer after is the offer before plus N PSU places at the town hall, and the under-served level after is the
  rule of :mod:`indicators.underserved` re-run on that modified offer (the rule is reused, never copied);
- every amount is an order of magnitude built from :file:`simulation.toml` (each default names its source or says
  « hypothèse à confirmer ») and from the barème of the bonus territoire; :attr:`Simulation.assumptions` lists every
  assumption in French next to the result.

The plain-text report the CLI prints is worded in :mod:`dashboard.cli.report`; this module only computes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geodata.bundle import Bundle
from geodata.numbers import format_euros, format_number
from indicators.access import compute_access
from indicators.accessibility import compute_accessibility
from indicators.bonus import (
    STATUT_A_CONFIRMER,
    STATUT_APPLICABLE,
    STATUT_NON,
    STATUT_SI_CTG,
    compute_bonus,
)
from indicators.common import Context
from indicators.compute import Indicators, commune_frame
from indicators.context import compute_context
from indicators.offer import NOTE_TX_CAF, compute_offer
from indicators.params import Params
from indicators.table import VALUE, Cols
from indicators.underserved import compute_underserved

SIM_FILE = Path(__file__).with_name("simulation.toml")
THOUSANDS = "\u202f"
NBSP = "\u00a0"
SIM_ID = "SIMULATION"
"""``id_structure`` of the simulated crèche added to the EAJE layer."""


@dataclass(frozen=True)
class SimParams:
    """Defaults of the funding estimate (see ``simulation.toml`` for the source of each value)."""

    version: str
    annee_defaut: int
    taux_psu: float
    taux_source: str
    plafond_horaire: float
    plafond_annee: int
    plafond_source: str
    cout_horaire: float
    cout_source: str
    heures_par_place_an: float
    heures_source: str
    participation_horaire: float
    participation_source: str
    invest_dispositif: str
    invest_depuis: int
    invest_min_place: float
    invest_max_place: float
    invest_part_max: float
    invest_source: str
    non_comptes: tuple[str, ...] = ()


def load_sim_params(path: Path | None = None) -> SimParams:
    """Read ``simulation.toml`` (default: beside this module)."""
    raw = tomllib.loads(Path(path or SIM_FILE).read_text(encoding="utf-8"))
    psu, inv = raw["psu"], raw["investissement"]
    return SimParams(
        version=str(raw.get("version", "")),
        annee_defaut=int(raw["annee_defaut"]),
        taux_psu=float(psu["taux_prise_en_charge"]),
        taux_source=str(psu["taux_source"]),
        plafond_horaire=float(psu["plafond_horaire"]),
        plafond_annee=int(psu["plafond_annee"]),
        plafond_source=str(psu["plafond_source"]),
        cout_horaire=float(psu["cout_horaire"]),
        cout_source=str(psu["cout_source"]),
        heures_par_place_an=float(psu["heures_par_place_an"]),
        heures_source=str(psu["heures_source"]),
        participation_horaire=float(psu["participation_horaire"]),
        participation_source=str(psu["participation_source"]),
        invest_dispositif=str(inv["dispositif"]),
        invest_depuis=int(inv["depuis"]),
        invest_min_place=float(inv["aide_min_place"]),
        invest_max_place=float(inv["aide_max_place"]),
        invest_part_max=float(inv["part_max_depense"]),
        invest_source=str(inv["source"]),
        non_comptes=tuple(str(t) for t in raw.get("non_comptes", {}).get("texte", ())),
    )


@dataclass(frozen=True)
class LevelRatio:
    """Places per 100 children under 3 (or per 1 000 inhabitants) of one territory, before and after."""

    niveau: str
    code: str
    nom: str
    places_avant: float
    places_apres: float
    denominateur: float
    avant: float
    apres: float
    etat: str
    note: str = ""


@dataclass(frozen=True)
class LevelCoverage:
    """CNAF global coverage rate (%) of one territory, before and after (after = before + N ÷ children × 100)."""

    niveau: str
    code: str
    nom: str
    avant: float
    apres: float
    etat: str
    note: str = ""


@dataclass(frozen=True)
class BonusEstimate:
    """Bonus territoire CTG for the new places (€ per year)."""

    statut: str
    """Status of the bonus once the places exist (:data:`indicators.bonus.BONUS_STATUTS`)."""
    tranche: str
    montant_place: float
    """€ per place per year of the tranche (NaN when the tranche depends on unknown wealth data)."""
    montant_min_place: float
    montant_max_place: float
    total: float
    """Places × amount when the bonus applies, 0 for « non » (CTG non signée), NaN when the amount is to confirm or
    depends on a CTG still to sign."""
    total_min: float
    total_max: float
    """Range of places × amount, whatever the CTG status (what the bonus would be once a CTG is signed)."""
    motif: str

    @property
    def a_confirmer(self) -> bool:
        """The amount per place cannot be stated (missing data or unconfirmed barème line)."""
        return self.statut == STATUT_A_CONFIRMER


@dataclass(frozen=True)
class PsuEstimate:
    """PSU order of magnitude: places × hours × (min(cost, plafond) × 66 % − family participation per hour)."""

    heures: float
    cout_retenu: float
    psu_horaire: float
    par_place: float
    total: float


@dataclass(frozen=True)
class InvestEstimate:
    """Investment aid range (Piaje) for the new places."""

    dispositif: str
    min_place: float
    max_place: float
    total_min: float
    total_max: float
    part_max: float


@dataclass(frozen=True)
class Simulation:
    """Result of :func:`simulate`: every figure before/after, the funding estimate and its assumptions."""

    commune: str
    nom: str
    places: int
    annee: int
    en_qpv: bool | None
    unite: str
    """« pour 100 enfants de moins de 3 ans » or « pour 1 000 habitants »."""
    ratios: tuple[LevelRatio, ...]
    couverture: tuple[LevelCoverage, ...]
    sous_dotation_avant: str
    sous_dotation_apres: str
    motif_avant: str
    motif_apres: str
    autres_changements: tuple[tuple[str, str, str, str], ...]
    """Other communes whose under-served level changes (code, name, before, after): nearest crèche moves."""
    bonus: BonusEstimate
    psu: PsuEstimate
    investissement: InvestEstimate
    synthetic: bool
    assumptions: list[str] = field(default_factory=list)

    @property
    def fonctionnement_total(self) -> float:
        """PSU + bonus territoire per year (NaN when the bonus amount is unknown)."""
        return self.psu.total + self.bonus.total


def _value(ind: Indicators, level: str, key: str, code: str) -> tuple[float, str, str]:
    res = ind.level(level)
    if key not in res.values.columns or code not in res.values.index:
        return np.nan, "nd", "indicateur absent"
    return float(res.values.at[code, key]), str(res.states.at[code, key]), str(res.notes.at[code, key])


def _add_creche(bundle: Bundle, commune: str, places: int) -> pd.DataFrame | None:
    """The EAJE layer with the simulated PSU crèche at the town hall (None when the layer is absent)."""
    eaje = bundle.layer("caf_eaje")
    if eaje is None or places == 0:
        return eaje
    row = bundle.communes.loc[bundle.communes["code"].astype(str) == commune].iloc[0]
    lon, lat = float(row["mairie_lon"]), float(row["mairie_lat"])
    new = gpd.GeoDataFrame(
        {
            "id_structure": [SIM_ID],
            "nom": ["Projet simulé"],
            "code_commune": [commune],
            "adresse": [""],
            "type_accueil": ["multi-accueil"],
            "places": [int(places)],
            "psu": [True],
            "gestionnaire": [""],
            "lon": [lon],
            "lat": [lat],
            "geolocalisation": ["mairie"],
        },
        geometry=[Point(lon, lat)],
        crs=eaje.crs,
    )
    return pd.concat([eaje, new[[c for c in new.columns if c in eaje.columns or c == "geometry"]]], ignore_index=True)


def _bump_coverage(tx: pd.DataFrame, bumps: dict[tuple[str, str], float]) -> pd.DataFrame:
    """The coverage table with ``bumps[(niveau, code)]`` points added to the global and EAJE rates."""
    tx = tx.copy()
    for (niveau, code), points in bumps.items():
        mask = (tx["niveau"].astype(str) == niveau) & (tx["code"].astype(str) == code)
        for col in ("txcouv", "txcouv_eaje"):
            if col in tx:
                tx.loc[mask, col] = pd.to_numeric(tx.loc[mask, col], errors="coerce") + points
    return tx


def _pipeline(bundle: Bundle, layers: dict[str, pd.DataFrame], params: Params) -> tuple[Context, Cols, Cols]:
    """Commune-level indicators of a (modified) set of layers: the steps of ``compute_indicators`` up to the
    under-served rule, without the aggregation the simulator does not need."""
    base = commune_frame(bundle.communes)
    ctx = Context(base=base, layers=layers)
    cols, raw = Cols(base.index), Cols(base.index)
    compute_context(ctx, cols, raw)
    compute_offer(ctx, cols, raw, params)
    compute_access(ctx, cols, raw, params)
    access = compute_accessibility(ctx, cols, raw, params)
    compute_underserved(ctx, cols, raw, params, access)
    return ctx, cols, raw


def _bonus(
    ind: Indicators, ctx: Context, cols: Cols, commune: str, places: int, en_qpv: bool | None
) -> tuple[BonusEstimate, list[str]]:
    params = ind.params
    bareme = params.bareme
    notes: list[str] = []
    row = ind.bonus().loc[commune]
    tranche, missing, ctg = str(row["tranche"]), str(row["manque"]), str(row["ctg"])
    motif = str(row["motif"])
    if en_qpv is True:
        t = bareme.tranche("zone_prioritaire")
        tranche, missing = t.id, ("montant de la tranche 1 à confirmer" if t.a_confirmer else "")
        motif = f"crèche implantée dans un QPV : {t.libelle} ; {motif.split(' ; ')[0]}"
        notes.append("Crèche supposée implantée dans un QPV : tranche 1 du barème (montant maximal).")
    elif en_qpv is False and (cols.values["qpv"].get(commune, 0) or 0) > 0:
        # The commune counts as priority because it contains a QPV; a crèche outside it may fall in a lower tranche.
        qpv = cols.values["qpv"].copy()
        qpv[commune] = 0.0
        cols.put("qpv", qpv, cols.states["qpv"], cols.notes["qpv"])
        frame = compute_bonus(ctx, cols, params)
        tranche, motif = str(frame.at[commune, "tranche"]), str(frame.at[commune, "motif"])
        missing = str(frame.at[commune, "manque"]) or "tranche d'une crèche hors QPV"
        notes.append(
            "Crèche supposée hors QPV : la tranche est recalculée comme si la commune n'avait pas de QPV (à confirmer)."
        )
    by_id = {t.id: t for t in bareme.tranches}
    if tranche in by_id and not missing:
        montant = by_id[tranche].montant
        low = high = montant
    else:
        montant, low, high = np.nan, bareme.montant_min, bareme.montant_max
    if ctg == "non":
        statut, total = STATUT_NON, 0.0
        notes.append("CTG non signée (extrait Caf) : bonus territoire non applicable (0 €).")
    elif montant != montant:
        statut, total = STATUT_A_CONFIRMER, np.nan
    elif ctg == "signée":
        statut, total = STATUT_APPLICABLE, places * montant
    else:
        statut, total = STATUT_SI_CTG, np.nan
        notes.append("Aucune CTG signée ne couvre la commune : bonus indiqué « si une CTG est signée ».")
    est = BonusEstimate(
        statut=statut,
        tranche=tranche,
        montant_place=float(montant),
        montant_min_place=float(low),
        montant_max_place=float(high),
        total=float(total),
        total_min=float(places * low),
        total_max=float(places * high),
        motif=motif,
    )
    return est, notes


def simulate(
    ind: Indicators,
    bundle: Bundle,
    commune: str,
    places: int,
    annee: int | None = None,
    en_qpv: bool | None = None,
    params: SimParams | None = None,
) -> Simulation:
    """Simulate ``places`` new PSU crèche places in ``commune`` (pure: ``ind`` and ``bundle`` are not modified).

    Args:
        ind: indicators of ``bundle`` (before).
        bundle: the territory bundle the indicators were computed from.
        commune: INSEE code of the commune.
        places: number of new places (≥ 0).
        annee: opening year (default ``simulation.toml`` ``annee_defaut``).
        en_qpv: True = the crèche is inside a QPV (tranche 1); False = outside any QPV; None = the commune's tranche.
        params: funding defaults (default ``simulation.toml``).

    Raises:
        ValueError: unknown commune, negative places, or a year before the barème in force (message in French).
    """
    sp = params or load_sim_params()
    annee = int(annee or sp.annee_defaut)
    commune = str(commune)
    if commune not in ind.commune.values.index:
        raise ValueError(f"commune « {commune} » absente du bundle")
    if places < 0:
        raise ValueError(f"nombre de places négatif ({places})")
    bareme = ind.params.bareme
    if annee < bareme.annee:
        raise ValueError(f"année {annee} antérieure au barème du bonus territoire ({bareme.annee}) : non simulée")
    base = commune_frame(bundle.communes)
    epci_code = str(base.at[commune, "epci_code"])
    dep_code = str(base.at[commune, "departement"])
    territories = [("commune", commune, str(base.at[commune, "nom"]))]
    if epci_code:
        territories.append(("epci", epci_code, str(base.at[commune, "epci_nom"])))
    territories.append(("departement", dep_code, str(ind.names["departement"].get(dep_code, dep_code))))
    assumptions: list[str] = [
        f"Les {places} place(s) nouvelles sont des places de crèche PSU ouvertes en {annee} à la mairie de "
        f"{territories[0][2]} (distance et rattachement communal)."
    ]

    # Offer ratio: per 100 children under 3 when the commune's figure exists, else per 1 000 inhabitants.
    per_child = _value(ind, "commune", "eaje_places_100_moins3", commune)[1] == VALUE
    den_key, factor = ("pop_moins3", 100.0) if per_child else ("population", 1000.0)
    unite = "pour 100 enfants de moins de 3 ans" if per_child else "pour 1 000 habitants"
    if not per_child:
        assumptions.append("Population par âge absente : places rapportées à 1 000 habitants au lieu de 100 enfants.")
    ratios = []
    for level, code, nom in territories:
        p, ps, pn = _value(ind, level, "eaje_places", code)
        d, ds, dn = _value(ind, level, den_key, code)
        if ps == VALUE and ds == VALUE and d > 0:
            ratios.append(
                LevelRatio(level, code, nom, p, p + places, d, factor * p / d, factor * (p + places) / d, VALUE, pn)
            )
        else:
            note = pn if ps != VALUE else (dn or "dénominateur nul")
            ratios.append(
                LevelRatio(level, code, nom, p, p + places, d, np.nan, np.nan, ps if ps != VALUE else ds, note)
            )

    # CAF coverage: the published rate plus N places per 100 children of the territory.
    couverture: list[LevelCoverage] = []
    bumps: dict[tuple[str, str], float] = {}
    tx_layer = bundle.layer("caf_txcouv")
    if tx_layer is not None:
        assumptions.append(
            "Taux de couverture après = taux publié + places nouvelles ÷ enfants de moins de 3 ans × 100 "
            "(une place = une unité de capacité théorique, méthode Cnaf)."
        )
        for level, code, nom in territories:
            v, s, n = _value(ind, level, "txcouv_global", code)
            kids, ks, _ = _value(ind, level, "pop_moins3", code)
            borrowed = level == "commune" and "taux de l'EPCI" in n
            if s == VALUE and ks == VALUE and kids > 0 and not borrowed:
                bump = 100.0 * places / kids
                bumps[({"commune": "com", "epci": "epci", "departement": "dep"}[level], code)] = bump
                couverture.append(LevelCoverage(level, code, nom, v, v + bump, VALUE, n))
            elif s == VALUE and not borrowed:
                couverture.append(
                    LevelCoverage(level, code, nom, v, np.nan, VALUE, "enfants de moins de 3 ans absents")
                )
            else:
                couverture.append(LevelCoverage(level, code, nom, v, np.nan, s, n))
        if couverture and "taux de l'EPCI" in couverture[0].note:
            epci_cov = next((c for c in couverture if c.niveau == "epci"), None)
            if epci_cov is not None:
                couverture[0] = LevelCoverage(
                    "commune", commune, territories[0][2], epci_cov.avant, epci_cov.apres, epci_cov.etat,
                    "taux de l'EPCI (commune de moins de 10 000 habitants)",
                )  # fmt: skip
        if not bumps and places:
            assumptions.append("Taux de couverture après non calculable : le niveau après utilise le taux actuel.")
    demande = bundle.layer("caf_demande")
    demand_bump = 0.0
    if tx_layer is None and demande is not None and "taux_couverture" in demande:
        # The Caf « demande » extract gives the commune's own rate: the same Cnaf bump, commune level only.
        v, s, n = _value(ind, "commune", "txcouv_global", commune)
        kids, ks, _ = _value(ind, "commune", "pop_moins3", commune)
        if s == VALUE and NOTE_TX_CAF in n and ks == VALUE and kids > 0:
            demand_bump = 100.0 * places / kids
            couverture.append(LevelCoverage("commune", commune, territories[0][2], v, v + demand_bump, VALUE, n))
            assumptions.append(
                "Taux de couverture communal de l'extrait Caf après = taux + places nouvelles ÷ enfants de moins de "
                "3 ans × 100 (méthode Cnaf)."
            )

    # Under-served level: the rule of indicators/underserved.py re-run on the modified layers.
    layers = dict(bundle.layers)
    eaje_after = _add_creche(bundle, commune, places)
    if eaje_after is not None:
        layers["caf_eaje"] = eaje_after
    else:
        assumptions.append("Extrait Caf des EAJE absent : l'offre actuelle et le niveau après ne sont pas connus.")
    if tx_layer is not None and bumps:
        layers["caf_txcouv"] = _bump_coverage(tx_layer, bumps)
    if demand_bump and demande is not None:
        bumped = demande.copy()
        mask = bumped["code_commune"].astype(str) == commune
        bumped.loc[mask, "taux_couverture"] = pd.to_numeric(bumped.loc[mask, "taux_couverture"]) + demand_bump
        layers["caf_demande"] = bumped
    ctx, cols, _ = _pipeline(bundle, layers, ind.params)
    before = ind.commune.values["sous_dotation"]
    after = cols.values["sous_dotation"]
    lvl_before = before.get(commune)
    lvl_after = after.get(commune)
    changed = [
        (code, str(base.at[code, "nom"]), str(before[code]), str(after[code]))
        for code in base.index
        if code != commune
        and before.get(code) is not None
        and after.get(code) is not None
        and before[code] != after[code]
    ]

    bonus, bonus_notes = _bonus(ind, ctx, cols, commune, places, en_qpv)
    assumptions += bonus_notes
    assumptions.append(
        f"Bonus territoire : barème {bareme.annee} ({bareme.source}), {format_euros(bareme.montant_min)} à "
        f"{format_euros(bareme.montant_max)} par place nouvelle et par an ; tranches intermédiaires à confirmer."
    )

    cost = min(sp.cout_horaire, sp.plafond_horaire)
    psu_hour = cost * sp.taux_psu - sp.participation_horaire
    per_place = sp.heures_par_place_an * psu_hour
    psu = PsuEstimate(sp.heures_par_place_an, cost, psu_hour, per_place, places * per_place)
    assumptions += [
        f"PSU = places × heures × (min(prix de revient, prix plafond) × {format_number(100 * sp.taux_psu, 0)} % − "
        f"participation familiale horaire) : {sp.taux_source}.",
        f"Prix plafond {format_euros(sp.plafond_horaire, 2)} par heure ({sp.plafond_annee}) : {sp.plafond_source}"
        + (f" ; plafond {sp.plafond_annee} appliqué à {annee}." if annee != sp.plafond_annee else "."),
        f"Prix de revient {format_euros(sp.cout_horaire, 2)} par heure : {sp.cout_source}.",
        f"{format_number(sp.heures_par_place_an, 0)} heures facturées par place et par an : {sp.heures_source}.",
        f"Participation familiale moyenne {format_euros(sp.participation_horaire, 2)} par heure : "
        f"{sp.participation_source}.",
    ]
    if annee >= sp.invest_depuis:
        inv = InvestEstimate(
            sp.invest_dispositif,
            sp.invest_min_place,
            sp.invest_max_place,
            places * sp.invest_min_place,
            places * sp.invest_max_place,
            sp.invest_part_max,
        )
        assumptions.append(f"Investissement : {sp.invest_source}.")
    else:
        inv = InvestEstimate(f"{sp.invest_dispositif} (non en vigueur en {annee})", 0.0, 0.0, 0.0, 0.0, 0.0)
        assumptions.append(f"Investissement : {sp.invest_dispositif} applicable depuis {sp.invest_depuis} seulement.")
    if sp.non_comptes:
        assumptions.append("Non comptés (selon le gestionnaire et le public) : " + " ; ".join(sp.non_comptes) + ".")
    if bundle.synthetic:
        assumptions.append("Données fictives dans le bundle : chiffres de démonstration.")

    return Simulation(
        commune=commune,
        nom=territories[0][2],
        places=int(places),
        annee=annee,
        en_qpv=en_qpv,
        unite=unite,
        ratios=tuple(ratios),
        couverture=tuple(couverture),
        sous_dotation_avant=str(lvl_before) if lvl_before is not None else "non disponible",
        sous_dotation_apres=str(lvl_after) if lvl_after is not None else "non disponible",
        motif_avant=str(
            ind.commune.values["sous_dotation_motif"].get(commune) or ind.commune.notes.at[commune, "sous_dotation"]
        ),
        motif_apres=str(
            cols.values["sous_dotation_motif"].get(commune) or cols.notes["sous_dotation"].get(commune, "")
        ),
        autres_changements=tuple(changed),
        bonus=bonus,
        psu=psu,
        investissement=inv,
        synthetic=bool(bundle.synthetic),
        assumptions=assumptions,
    )
