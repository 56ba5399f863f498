"""The commune card and the details of a clicked structure. Pure; data text always as escaped children.

The card reads in ten seconds: name, population with its year, under-served level and bonus status with their
reasons; then a few key figures beside the EPCI and the département; then, folded (``html.Details``), the comparison
chart, every indicator (with France), zonings and the nearest structures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from dash import dcc, html

from dashboard.core.model import DashboardModel
from dashboard.core.widgets import aria
from dashboard.map.figures import build_comparison_figure
from dashboard.map.points import stacked_with
from geodata.numbers import format_number, format_value, plural


def population_text(values: Sequence[float] | np.ndarray, label: str, reason: str = "") -> str:
    """« 121 616 habitants (population 2023) »; « population non disponible (raison) » as soon as one value is
    missing (a total over a missing commune would be silently wrong), never 0."""
    array = np.asarray(values, dtype=float)
    if array.size == 0 or np.isnan(array).any():
        missing = int(np.isnan(array).sum())
        detail = reason or (plural(missing, "commune sans population") if array.size > 1 else "")
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


def _bonus(model: DashboardModel, code: str) -> Any | None:
    """The bonus row of the commune (:func:`indicators.bonus.bonus_resume`), or None when not computed."""
    try:
        bonus = model.indicators.bonus()
    except (AttributeError, NotImplementedError, AssertionError):
        return None
    if bonus is None or code not in bonus.index or "resume" not in bonus.columns:
        return None
    return bonus.loc[code]


def _verdict(model: DashboardModel, i: int, code: str) -> html.Dl:
    """What an official asks first: the under-served level with its reason, the bonus status with its reason."""
    items: list[Any] = []
    level = model.columns.get("sous_dotation")
    if level is not None:
        reason = model.texts.get("sous_dotation_motif", ())
        why = reason[i] if i < len(reason) else ""
        items += [html.Dt("Sous-dotation"), html.Dd([html.Strong(level.display[i]), *([" — ", why] if why else [])])]
    else:
        items += [html.Dt("Sous-dotation"), html.Dd("non calculée pour ce bundle", className="muted")]
    row = _bonus(model, code)
    if row is None:
        items += [html.Dt("Bonus territoire"), html.Dd("non calculé pour ce bundle", className="muted")]
        return html.Dl(items, className="card-dl card-verdict")
    status, resume = str(row.get("statut", "") or ""), str(row["resume"])
    if status and resume.startswith(f"{status} : "):  # « à confirmer : 2 600 – 3 600 € … »: the status in bold
        items += [html.Dt("Bonus territoire"), html.Dd([html.Strong(status), resume[len(status) :]])]
    else:
        items += [html.Dt("Bonus territoire"), html.Dd(resume)]
    if str(row.get("manque", "") or ""):
        items += [html.Dt("Ce qui manque"), html.Dd(str(row["manque"]))]
    if str(row.get("motif", "") or ""):
        items += [html.Dt("Motif du bonus"), html.Dd(str(row["motif"]))]
    return html.Dl(items, className="card-dl card-verdict")


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


KEY_FIGURES = (
    "eaje_places",
    "eaje_places_100_moins3",
    "acces_eaje",
    "txcouv_global",
    "alsh_places",
    "acces_alsh",
    "distance_eaje_km",
    "med_niveau_vie",
    "taux_pauvrete",
)
"""The few figures a partnership meeting compares first (those in the bundle, plus the indicator on the map)."""
IN_VERDICT = frozenset({"sous_dotation", "bonus_statut", "bonus_tranche"})
"""Already said, with their reasons, at the top of the card."""


def _level_cell(model: DashboardModel, result: Any, key: str, ind_id: str, unit: str) -> html.Td:
    """An EPCI or département figure of one indicator, formatted like the commune's (``unit`` "" when the unit is
    already in the row's label)."""
    meta = model.columns[ind_id].meta
    try:
        value, state = result.values.at[key, ind_id], str(result.states.at[key, ind_id])
    except (KeyError, AttributeError):
        value, state = None, "nd"
    if meta.kind == "category":
        return html.Td(str(value) if state == "valeur" else format_value(None, state))
    number = float(value) if value is not None and state == "valeur" else None
    return html.Td(format_value(number, state, meta.decimals, unit))


def _row(
    model: DashboardModel,
    i: int,
    ind_id: str,
    indicator: str,
    france: dict[str, tuple[str, str]] | None,
    *,
    compact: bool = False,
) -> Any:
    """One indicator: commune, EPCI, département (and France when ``france`` is given).

    ``compact`` (the key figures): the unit once under the label and bare numbers, the commune's note as a tooltip,
    so a narrow column does not wrap every figure over four lines.
    """
    col = model.columns[ind_id]
    meta = col.meta
    unit = "" if compact else meta.unit
    own = col.display[i] if meta.kind == "category" else format_value(col.values[i], col.states[i], meta.decimals, unit)
    note = col.notes[i]
    if compact:
        label: Any = [meta.label, html.Br(), html.Span(meta.unit, className="muted small")] if meta.unit else meta.label
        cells = [html.Td(label), html.Td(own, title=note) if note else html.Td(own)]
    else:
        cells = [html.Td(meta.label), html.Td(own + (f" ({note})" if note else ""))]
    ind = model.indicators
    cells += [_level_cell(model, ind.epci, model.epci_codes[i], ind_id, unit)]
    cells += [_level_cell(model, ind.departement, model.departement, ind_id, unit)]
    if france:
        text, fr_note = france.get(ind_id, ("", ""))
        cells.append(html.Td(text, title=fr_note) if text else html.Td("", **aria(label="pas de référence")))
    return html.Tr(cells, className="current" if ind_id == indicator else None)


def _table(rows: list[Any], france: bool) -> html.Div:
    columns = ["Indicateur", "Commune", "EPCI", "Dépt"] + (["France"] if france else [])
    header = html.Tr([html.Th(c, scope="col") for c in columns])
    return html.Div(html.Table([html.Thead(header), html.Tbody(rows)], className="card-table"), className="scroll-x")


def _folded(title: str, children: list[Any], *, open_: bool = False) -> html.Details:
    """A section folded under its title (``html.Details``): details stay one click away, the card stays short."""
    return html.Details([html.Summary(title), *children], open=open_, className="card-more")


def make_commune_card(model: DashboardModel, code: str, indicator: str) -> html.Div:
    """Card of one commune, read in ten seconds: name, population with its year, under-served level and bonus with
    their reasons; then key figures against the EPCI and the département; then every detail, folded."""
    i = model.index_of(code)
    if i is None:
        return html.Div(
            html.P("Cliquez sur une commune de la carte ou cherchez-la par son nom pour afficher sa fiche."),
            className="muted",
        )
    epci = model.epci_codes[i]
    france = _france_cells(model)
    keys = [k for k in dict.fromkeys((indicator, *KEY_FIGURES)) if k in model.columns and k not in IN_VERDICT]
    key_rows = [_row(model, i, k, indicator, None, compact=True) for k in keys]
    all_rows = [_row(model, i, k, indicator, france) for k in model.columns]
    for ind_id, texts in model.texts.items():
        if texts[i] and ind_id not in {"bonus_resume", "bonus_motif", "sous_dotation_motif"}:
            all_rows.append(
                html.Tr([html.Td(model.registry[ind_id].label), html.Td(texts[i], colSpan=4 if france else 3)])
            )
    france_notes = [
        html.Li(f"{model.columns[k].meta.label} — France : {note}") for k, (_, note) in france.items() if note
    ]
    figure = build_comparison_figure(model, indicator, code)
    nearby = [html.Li(f"{label} : {name} ({format_number(km, 1)} km)") for label, name, km in _nearest(model, code)]
    zonages = [html.Li(f"{label} : {text}") for label, text in model.commune_zonages.get(code, ())]
    ctg = model.ctg.get(code) or model.ctg.get(epci)
    if ctg:
        zonages.append(html.Li(f"CTG : {ctg}"))
    details = [
        _folded(
            f"Comparaison avec les communes : {model.columns[indicator].meta.label}",
            [dcc.Graph(figure=figure, config={"displayModeBar": False, "staticPlot": True, "locale": "fr"})],
        )
        if figure is not None
        else None,
        _folded(
            f"Tous les indicateurs ({plural(len(all_rows), 'ligne')})",
            [_table(all_rows, bool(france)), html.Ul(france_notes, className="muted small") if france_notes else None],
        ),
        _folded(
            f"Zonages ({plural(len(zonages), 'zonage')})" if zonages else "Zonages (aucun connu)",
            [html.Ul(zonages) if zonages else html.P("Aucun zonage connu.", className="muted")],
        ),
        _folded(
            "Structures les plus proches de la mairie (à vol d'oiseau)",
            [html.Ul(nearby) if nearby else html.P("Aucune couche de structures dans ce bundle.", className="muted")],
        ),
    ]
    return html.Div(
        [
            html.H2(f"{model.names[i]} ({code})"),
            html.P(
                f"{population_text([model.population[i]], model.population_label, _note(model, i))}"
                f" · EPCI : {model.epci_names.get(epci, epci or '—')}",
                className="card-lead",
            ),
            _parent_line(model, i),
            _verdict(model, i, code),
            html.H3("Chiffres clés : commune, EPCI, département"),
            _table(key_rows, False),
            *details,
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
