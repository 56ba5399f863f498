"""The selection at a glance (département or EPCI beside the département): communes, inhabitants, rates,
under-served levels and bonus statuses, zonings, structures. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from dash import html

from dashboard.core.model import DashboardModel
from dashboard.map.legend import share_text
from geodata.numbers import format_number, format_value


def population_total(values: Sequence[float] | np.ndarray) -> str:
    """Sum of populations for a table cell; « non disponible » as soon as one is missing (never a partial sum)."""
    array = np.asarray(values, dtype=float)
    if array.size == 0 or np.isnan(array).any():
        missing = int(np.isnan(array).sum())
        return f"non disponible ({missing} sans population)" if missing else "non disponible"
    return format_number(float(array.sum()), 0)


def units_text(parents: np.ndarray) -> str:
    """Number of communes of a selection, Paris/Lyon/Marseille counted once with their arrondissements named."""
    arrondissements = int((parents != "").sum())
    communes = len(parents) - arrondissements + len(set(parents[parents != ""]))
    if not arrondissements:
        return str(communes)
    split = len(set(parents[parents != ""]))
    return f"{communes} (dont {split} par arrondissement : {arrondissements} arrondissements)"


SUMMARY_FIGURES = (
    ("eaje_places", "Places en EAJE"),
    ("eaje_places_100_moins3", "Places EAJE pour 100 enfants de moins de 3 ans"),
    ("eaje_places_1000_hab", "Places EAJE pour 1 000 habitants"),
    ("txcouv_global", "Taux de couverture global (Cnaf)"),
    ("acces_eaje", "Accessibilité EAJE (places pour 100 enfants)"),
    ("acces_eaje_hab", "Accessibilité EAJE (places pour 1 000 hab., faute d'enfants)"),
    ("alsh_places", "Places en ALSH"),
    ("acces_alsh", "Accessibilité ALSH (places pour 100 enfants de 3 à 10 ans)"),
    ("acces_alsh_hab", "Accessibilité ALSH (places pour 1 000 hab., faute d'enfants)"),
)
"""EPCI view: figures compared with the département (per-1 000-inhabitant rows only when no children count)."""


def _level_value(result: Any, key: str, indicator: str, decimals: int) -> str:
    try:
        value, state = result.values.at[key, indicator], str(result.states.at[key, indicator])
    except (KeyError, AttributeError):
        return format_value(None, "nd")
    return format_value(float(value) if state == "valeur" else None, state, decimals)


def _count_rows(model: DashboardModel, indicator: str, mask: np.ndarray, epci: str) -> list[Any]:
    """One row per category of ``indicator``: communes of the EPCI and of the département (with shares)."""
    col = model.columns.get(indicator)
    if col is None:
        return []
    values = np.asarray(col.values, dtype=object)
    states = np.asarray(col.states, dtype=object)
    rows = [html.Tr([html.Th(col.meta.label, colSpan=3 if epci else 2, className="summary-group")])]
    for cat in (*col.meta.categories, "non disponible"):
        hit = (values == cat) & (states == "valeur") if cat != "non disponible" else states != "valeur"
        if not hit.any():
            continue
        cells = [html.Td(cat)]
        if epci:
            cells.append(html.Td(share_text(int((hit & mask).sum()), int(mask.sum()))))
        cells.append(html.Td(share_text(int(hit.sum()), len(hit))))
        rows.append(html.Tr(cells))
    return rows


def make_summary(model: DashboardModel, epci: str) -> html.Div:
    """The selection at a glance: for an EPCI, places, rates, accessibility, communes per under-served level and per
    bonus status, QPV and ZRR communes, each beside the département; structures of each layer."""
    mask = model.mask(epci)
    codes = {c for c, keep in zip(model.codes, mask, strict=True) if keep}
    dep_name = f"Département {model.departement_nom or model.departement}"
    scope = model.epci_names.get(epci, epci) if epci else dep_name
    ind = model.indicators
    available = set(getattr(ind, "available", ()))
    parents = np.asarray(model.parents or ("",) * len(model.codes), dtype=object)
    population = np.asarray(model.population, dtype=float)
    head = [html.Th("")] + ([html.Th("EPCI")] if epci else []) + [html.Th("Département")]
    rows = [
        html.Tr(
            [html.Td("Communes")]
            + ([html.Td(units_text(parents[mask]))] if epci else [])
            + [html.Td(units_text(parents))]
        ),
        html.Tr(
            [html.Td(f"Habitants ({model.population_label})")]
            + ([html.Td(population_total(population[mask]))] if epci else [])
            + [html.Td(population_total(population))]
        ),
    ]
    for indicator, label in SUMMARY_FIGURES:
        if indicator not in available or indicator not in model.registry:
            continue
        decimals = model.registry[indicator].decimals
        values = [_level_value(ind.epci, epci, indicator, decimals)] if epci else []
        values.append(_level_value(ind.departement, model.departement, indicator, decimals))
        if all(v == format_value(None, "nd") for v in values):
            continue  # e.g. commune coverage rates only: nothing to compare at these levels
        rows.append(html.Tr([html.Td(label)] + [html.Td(v) for v in values]))
    rows += _count_rows(model, "sous_dotation", mask, epci)
    rows += _count_rows(model, "bonus_statut", mask, epci)
    zone_rows = [("qpv2024", "Communes avec un QPV 2024"), ("qpv2015", "Communes avec un QPV 2015"),
                 ("zrr", "Communes classées en ZRR 2017"),
                 ("zrr_sortante", "Communes sortantes de ZRR (non classées)")]  # fmt: skip
    for key, label in zone_rows:
        if key not in model.zones or (key == "qpv2015" and "qpv2024" in model.zones):
            continue
        members = set(model.zones[key])
        cells = [html.Td(label)]
        if epci:
            cells.append(html.Td(share_text(len(members & codes), len(codes))))
        cells.append(html.Td(share_text(len(members), len(model.codes))))
        rows.append(html.Tr(cells))
    structures = []
    for layer in model.point_layers:
        count = sum(1 for c in layer.communes if c in codes)
        structures.append(html.Li(f"{layer.spec.label} : {count}"))
    if model.large and not epci:
        structures.append(html.Li("Tableau des communes : choisissez un EPCI (territoire national)."))
    return html.Div(
        [
            html.H2(scope),
            html.Div(
                html.Table([html.Thead(html.Tr(head)), html.Tbody(rows)], className="card-table summary-table"),
                className="scroll-x",
            ),
            html.H3("Structures de la sélection") if structures else None,
            html.Ul(structures, className="summary-list") if structures else None,
        ]
    )
