"""« Communes à cibler »: the list an adviser brings to the meeting, ranked, with its reason and the bonus per place.

A commune is listed when it combines a chosen under-served level (default P1, P2), a chosen bonus status (default
every status but « non ») and a low accessibility to EAJE places (under ``ratio_acces_max`` × the level of its
département). Ranking (``docs/diagnostic.md``):
- with a children count, by the **estimated children without a reachable place**: children × (1 − A / 100), A being
  the places reachable per 100 children (E2SFCA) — a commune whose children all reach a place drops to the bottom;
- with the population proxy (no children count), by the **places to create to reach the département level**:
  population × (reference − A) / 1 000, said so in the header of the list.
Both figures are shown when computable, with the bonus per new place and the yearly bonus those places would bring.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.manifest import Provenance
from geodata.numbers import STATE_VALUE
from indicators.bonus import STATUT_A_CONFIRMER, STATUT_NON
from indicators.compute import Indicators
from indicators.export import (
    SYNTHETIC_MARK,
    ExportTable,
    neutralise,
    ordered_sources,
    rounded,
    sidecar_path,
    source_line,
    table_csv,
    write_table,
)

RANK_CHILDREN = "enfants sans place accessible"
RANK_PLACES = "places à créer pour atteindre le niveau du département"


@dataclass(frozen=True)
class TargetFilter:
    """What the list keeps: levels, bonus statuses, accessibility ceiling (fraction of the département level)."""

    niveaux: tuple[str, ...]
    statuts: tuple[str, ...]
    ratio_acces_max: float = 1.0
    epci: str = ""

    @classmethod
    def default(cls, ind: Indicators, epci: str = "") -> TargetFilter:
        """The filter of the parameters (``[cibles]`` of ``parametres.toml``)."""
        p = ind.params
        return cls(tuple(p.cibles_niveaux), tuple(p.cibles_statuts_bonus), p.cibles_ratio_acces_max, epci)


@dataclass(frozen=True)
class Targets:
    """The ranked list and how it was made (what it is ranked by, why it may be empty)."""

    table: pd.DataFrame
    """One row per commune, ranked (columns: see :data:`COLUMNS`)."""
    ranked_by: str
    """:data:`RANK_CHILDREN` or :data:`RANK_PLACES`."""
    unit: str
    """Unit of the accessibility column."""
    demand_label: str
    reason: str = ""
    """Why the list is empty when it cannot be computed (no EAJE extract, no level)."""


COLUMNS = (
    "rang",
    "code",
    "commune",
    "epci_code",
    "epci",
    "niveau",
    "motif",
    "acces",
    "reference",
    "demande",
    "enfants_sans_place",
    "places_a_creer",
    "bonus_statut",
    "bonus_place",
    "bonus_annuel",
    "bonus",
)


def compute_targets(ind: Indicators, filt: TargetFilter | None = None) -> Targets:
    """The communes à cibler of ``ind`` under ``filt`` (default: the parameters), ranked."""
    filt = filt or TargetFilter.default(ind)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    acc = (getattr(ind, "access", None) or {}).get("eaje")
    if acc is None:
        return Targets(empty, RANK_PLACES, "", "", "accessibilité non calculable : extrait Caf des EAJE absent")
    levels = ind.commune.values["sous_dotation"].astype(object)
    if levels.isna().all():
        return Targets(empty, RANK_PLACES, acc.unit, acc.demand_label, "niveaux de sous-dotation non disponibles")
    bonus = ind.bonus()
    base = pd.DataFrame(
        {
            "commune": ind.names["commune"],
            "niveau": levels,
            "motif": ind.commune.values["sous_dotation_motif"].astype(object),
            "acces": acc.access,
            "reference": acc.reference,
            "demande": acc.demand,
            "bonus_statut": bonus["statut"],
            "bonus_place": bonus["montant"],
            "bonus": bonus["resume"],
        }
    )
    epci_codes = (
        ind.commune_epci.reindex(base.index).fillna("")
        if ind.commune_epci is not None
        else pd.Series("", index=base.index)
    )
    base["epci_code"] = epci_codes
    base["epci"] = epci_codes.map(ind.names["epci"]).fillna("")
    keep = base["niveau"].isin(filt.niveaux) & base["bonus_statut"].isin(filt.statuts)
    keep &= base["acces"] < filt.ratio_acces_max * base["reference"]
    if filt.epci:
        keep &= epci_codes == filt.epci
    out = base[keep].copy()
    if acc.proxy:
        out["enfants_sans_place"] = np.nan
        ranked_by = RANK_PLACES
    else:
        out["enfants_sans_place"] = out["demande"] * (1 - out["acces"] / acc.factor).clip(lower=0)
        ranked_by = RANK_CHILDREN
    out["places_a_creer"] = (out["demande"] * (out["reference"] - out["acces"]).clip(lower=0) / acc.factor).map(
        lambda x: float(math.ceil(x - 1e-9)) if x == x else np.nan
    )
    known = ~out["bonus_statut"].isin((STATUT_A_CONFIRMER, STATUT_NON)) & out["bonus_place"].notna()
    out["bonus_annuel"] = np.where(known, out["places_a_creer"] * out["bonus_place"], np.nan)
    key = "enfants_sans_place" if ranked_by == RANK_CHILDREN else "places_a_creer"
    out = out.assign(_key=out[key], _acc=out["acces"], _nom=out["commune"].astype(str))
    out = out.sort_values(["_key", "_acc", "_nom"], ascending=[False, True, True], kind="stable")
    out["rang"] = np.arange(1, len(out) + 1)
    out["code"] = out.index.astype(str)
    table = out[list(COLUMNS)].reset_index(drop=True)
    return Targets(table, ranked_by, acc.unit, acc.demand_label)


def _headers(targets: Targets) -> dict[str, tuple[str, int | None]]:
    """Header → (column of :attr:`Targets.table`, decimals; None for text), in the order of the file."""
    demand = "Population" if targets.ranked_by == RANK_PLACES else f"Demande : {targets.demand_label}"
    unit = f" ({targets.unit})" if targets.unit else ""
    return {
        "Rang": ("rang", 0),
        "Code commune": ("code", None),
        "Commune": ("commune", None),
        "EPCI": ("epci", None),
        "Niveau de sous-dotation": ("niveau", None),
        "Motif": ("motif", None),
        f"Accessibilité EAJE{unit}": ("acces", 1),
        "Niveau du département (même unité)": ("reference", 1),
        demand: ("demande", 0),
        "Enfants sans place accessible (estimation)": ("enfants_sans_place", 0),
        "Places à créer pour atteindre le niveau du département": ("places_a_creer", 0),
        "Bonus territoire : statut": ("bonus_statut", None),
        "Bonus territoire par place nouvelle (€ par an)": ("bonus_place", 0),
        "Bonus territoire pour ces places (€ par an)": ("bonus_annuel", 0),
        "Bonus territoire": ("bonus", None),
    }


def targets_frame(targets: Targets, synthetic: bool) -> pd.DataFrame:
    """French headers, rounded numbers, formula-safe text, « Données fictives » when any input is fictitious."""
    t = targets.table
    data: dict[str, list[object]] = {}
    for title, (column, decimals) in _headers(targets).items():
        if decimals is None:
            data[title] = [neutralise(str(v)) for v in t[column]]
        else:
            data[title] = [rounded(v, STATE_VALUE, decimals) for v in t[column].astype(float)]
    frame = pd.DataFrame(data)
    if synthetic:
        frame["Avertissement"] = SYNTHETIC_MARK
    return frame


def targets_export(targets: Targets, synthetic: bool, sources: Sequence[Provenance] = ()) -> ExportTable:
    """The list as an export: its table, title (ranking), sources with vintages, fictitious flag, precision."""
    return ExportTable(
        frame=targets_frame(targets, synthetic),
        title=f"Communes à cibler, classées par {targets.ranked_by} (ctg-carto)",
        sources=tuple(sources),
        synthetic=synthetic,
        sheet="Communes à cibler",
        decimals={title: d for title, (_, d) in _headers(targets).items() if d is not None},
    )


def targets_csv(targets: Targets, synthetic: bool, *, excel: bool = True, sources: Sequence[Provenance] = ()) -> str:
    """The list as CSV text, comment rows first (``excel``: BOM, « ; » and decimal comma, for French spreadsheets)."""
    return table_csv(targets_export(targets, synthetic, sources), excel=excel)


def write_targets_csv(ind: Indicators, targets: Targets, filt: TargetFilter, path: Path, *, excel: bool = True) -> None:
    """Write the list (CSV, UTF-8 with BOM when ``excel``; XLSX when ``path`` ends in ``.xlsx``) and its sidecar
    ``<file>.parametres.json`` (filters, ranking, accessibility method, sources, every parameter)."""
    path = Path(path)
    sources = ordered_sources(ind.layer_info)
    write_table(targets_export(targets, ind.synthetic, sources), path, excel=excel)
    sidecar = {
        "fichier": path.name,
        "donnees_fictives": ind.synthetic,
        "sources": [source_line(src) for src in sources],
        "filtre": asdict(filt),
        "classement": targets.ranked_by,
        "accessibilite": ind.rules.get(ind.access["eaje"].indicator, "") if "eaje" in ind.access else "",
        "raison_liste_vide": targets.reason,
        "parametres": ind.params.to_dict(),
    }
    sidecar_path(path).write_text(json.dumps(sidecar, ensure_ascii=False, indent=2), encoding="utf-8")
