"""The commune card (every indicator beside its EPCI, the département and France, zonings, bonus, nearest
structures) and the details of a clicked structure. Pure; data text always as escaped children.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from dash import dcc, html

from dashboard.core.model import DashboardModel
from dashboard.map.figures import build_comparison_figure
from dashboard.map.points import stacked_with
from geodata.numbers import format_number, format_value


def population_text(values: Sequence[float] | np.ndarray, label: str, reason: str = "") -> str:
    """« 121 616 habitants (population 2023) »; « population non disponible (raison) » as soon as one value is
    missing (a total over a missing commune would be silently wrong), never 0."""
    array = np.asarray(values, dtype=float)
    if array.size == 0 or np.isnan(array).any():
        missing = int(np.isnan(array).sum())
        detail = reason or (f"{missing} commune(s) sans population" if array.size > 1 else "")
        return f"population non disponible ({detail})" if detail else "population non disponible"
    return f"{format_number(float(array.sum()), 0)} habitants ({label})"


def _nearest(model: DashboardModel, code: str, limit: int = 3) -> list[tuple[str, str, float]]:
    i = model.index_of(code)
    if i is None:
        return []
    lon0, lat0 = model.mairie[i]
    found = []
    for layer in model.point_layers:
        if not layer.lon:
            continue
        lon = np.radians(np.asarray(layer.lon))
        lat = np.radians(np.asarray(layer.lat))
        a = (
            np.sin((lat - math.radians(lat0)) / 2) ** 2
            + math.cos(math.radians(lat0)) * np.cos(lat) * np.sin((lon - math.radians(lon0)) / 2) ** 2
        )
        km = 2 * 6371.0 * np.arcsin(np.sqrt(a))
        for j in np.argsort(km)[:limit]:
            found.append((layer.spec.label, layer.names[j], float(km[j])))
    return found


def _bonus_rows(model: DashboardModel, code: str) -> list[Any]:
    """The bonus of the commune in the words of every view (:func:`indicators.bonus.bonus_resume`)."""
    try:
        bonus = model.indicators.bonus()
    except (AttributeError, NotImplementedError):
        return []
    if bonus is None or code not in bonus.index or "resume" not in bonus.columns:
        return []
    row = bonus.loc[code]
    items = [html.Dt("Bonus territoire"), html.Dd(str(row["resume"]))]
    if str(row.get("manque", "") or ""):
        items += [html.Dt("Ce qui manque"), html.Dd(str(row["manque"]))]
    items += [html.Dt("Motif"), html.Dd(str(row.get("motif", "")))]
    return items


def _france_cells(model: DashboardModel) -> dict[str, tuple[str, str]]:
    """Indicator → (formatted national value, its source and year), only where an official national figure exists."""
    out = {}
    result = model.indicators.france
    for ind_id, col in model.columns.items():
        try:
            value, state = result.values.at["FR", ind_id], str(result.states.at["FR", ind_id])
            note = str(result.notes.at["FR", ind_id])
        except (KeyError, AttributeError):
            continue
        if state != "valeur" or col.meta.kind != "numeric":
            continue
        out[ind_id] = (format_value(float(value), state, col.meta.decimals, col.meta.unit), note)
    return out


def _note(model: DashboardModel, i: int) -> str:
    return model.population_notes[i] if i < len(model.population_notes) else ""


def _parent_line(model: DashboardModel, i: int) -> html.P | None:
    """For an arrondissement of Paris, Lyon or Marseille: the commune it belongs to, with the commune's total."""
    parent = model.parents[i] if i < len(model.parents) else ""
    if not parent:
        return None
    info = model.parent_communes.get(parent)
    total = info.population if info is not None else None
    text = population_text([total if total is not None else float("nan")], model.population_label)
    name = info.nom if info is not None else parent
    return html.P(f"Arrondissement municipal de {name} ({parent}) : commune entière, {text}")


def make_commune_card(model: DashboardModel, code: str, indicator: str) -> html.Div:
    """Card of one commune: population, every indicator vs EPCI/département/France, structures, zonages, bonus."""
    i = model.index_of(code)
    if i is None:
        return html.Div(
            html.P("Cliquez sur une commune de la carte ou cherchez-la par son nom pour afficher sa fiche."),
            className="muted",
        )
    epci = model.epci_codes[i]
    ind = model.indicators
    france = _france_cells(model)
    columns = ["Indicateur", "Commune", "EPCI", "Dépt"] + (["France"] if france else [])
    header = html.Tr([html.Th(c) for c in columns])
    rows = []
    for ind_id, col in model.columns.items():
        meta = col.meta
        own = (
            col.display[i]
            if meta.kind == "category"
            else format_value(col.values[i], col.states[i], meta.decimals, meta.unit)
        )
        cells = [html.Td(meta.label), html.Td(own + (f" ({col.notes[i]})" if col.notes[i] else ""))]
        for result, key in ((ind.epci, epci), (ind.departement, model.departement)):
            try:
                value, state = result.values.at[key, ind_id], str(result.states.at[key, ind_id])
            except (KeyError, AttributeError):
                value, state = None, "nd"
            if meta.kind == "category":
                cells.append(html.Td(str(value) if state == "valeur" else format_value(None, state)))
            else:
                number = float(value) if value is not None and state == "valeur" else None
                cells.append(html.Td(format_value(number, state, meta.decimals, meta.unit)))
        if france:
            text, note = france.get(ind_id, ("", ""))
            cells.append(html.Td(text, title=note) if text else html.Td("", **{"aria-label": "pas de référence"}))
        rows.append(html.Tr(cells, className="current" if ind_id == indicator else None))
    for ind_id, texts in model.texts.items():
        if texts[i] and ind_id not in {"bonus_resume", "bonus_motif"}:
            rows.append(html.Tr([html.Td(model.registry[ind_id].label), html.Td(texts[i], colSpan=len(columns) - 1)]))
    france_notes = [
        html.Li(f"{model.columns[k].meta.label} — France : {note}") for k, (_, note) in france.items() if note
    ]
    figure = build_comparison_figure(model, indicator, code)
    nearby = [html.Li(f"{label} : {name} ({format_number(km, 1)} km)") for label, name, km in _nearest(model, code)]
    zonages = [html.Li(f"{label} : {text}") for label, text in model.commune_zonages.get(code, ())]
    ctg = model.ctg.get(code) or model.ctg.get(epci)
    if ctg:
        zonages.append(html.Li(f"CTG : {ctg}"))
    bonus = _bonus_rows(model, code)
    return html.Div(
        [
            html.H2(f"{model.names[i]} ({code})"),
            html.P(
                f"{population_text([model.population[i]], model.population_label, _note(model, i))}"
                f" · EPCI : {model.epci_names.get(epci, epci or '—')}"
            ),
            _parent_line(model, i),
            html.H3(f"Comparaison : {model.columns[indicator].meta.label}") if figure is not None else None,
            dcc.Graph(figure=figure, config={"displayModeBar": False, "staticPlot": True, "locale": "fr"})
            if figure
            else None,
            html.H3("Tous les indicateurs"),
            html.Div(html.Table([html.Thead(header), html.Tbody(rows)], className="card-table"), className="scroll-x"),
            html.Ul(france_notes, className="muted small") if france_notes else None,
            html.H3("Bonus territoire"),
            html.Dl(bonus, className="card-dl") if bonus else html.P("Non calculé pour ce bundle.", className="muted"),
            html.H3("Zonages"),
            html.Ul(zonages) if zonages else html.P("Aucun zonage connu.", className="muted"),
            html.H3("Structures les plus proches de la mairie (à vol d'oiseau)"),
            html.Ul(nearby) if nearby else html.P("Aucune couche de structures dans ce bundle.", className="muted"),
        ],
        className="card",
    )


def make_point_details(model: DashboardModel, key: str, index: int) -> html.Div:
    """Details of a clicked structure (all its facts as plain text), and of every other structure at the same place
    (several share a town hall or a building: the panel lists them all, the clicked one first)."""
    layer = next((p for p in model.point_layers if p.spec.key == key), None)
    if layer is None or not 0 <= index < len(layer.names):
        return html.Div(html.P("Cliquez sur un point pour afficher le détail de la structure."), className="muted")
    layers = {p.spec.key: p for p in model.point_layers}
    blocks = []
    stack = stacked_with(model, key, index)
    for member_key, member in stack:
        member_layer = layers[member_key]
        items = []
        for label, text in member_layer.details[member]:
            items += [html.Dt(label), html.Dd(text)]
        blocks += [
            html.H3(member_layer.names[member]),
            html.P(member_layer.spec.label, className="muted"),
            html.Dl(items, className="card-dl"),
        ]
    if len(stack) > 1:
        blocks.insert(0, html.P(f"{len(stack)} structures à cet endroit :", className="stack-count"))
    return html.Div(blocks, className="point-details")
