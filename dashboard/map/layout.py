"""The page: composes the ``make_*`` factories. Pure (no callbacks, no I/O); ids come from :mod:`dashboard.core.ids`."""

from __future__ import annotations

from dash import dcc, html
from dash.development.base_component import Component

from dashboard.core import ids
from dashboard.core.classify import MAX_CLASSES, MIN_CLASSES, Classification
from dashboard.core.model import ZONE_LAYERS, DashboardModel
from dashboard.core.state import ViewState, default_indicator
from dashboard.donnees.page import make_nav
from dashboard.map.components import (
    class_controls_hidden,
    commune_options,
    indicator_options,
    make_commune_card,
    make_layer_legend,
    make_legend,
    make_point_details,
    make_sources_panel,
    make_summary,
    make_table,
    make_targets_section,
    method_options,
)
from dashboard.map.figures import build_map_figure
from dashboard.meeting.callbacks import make_meeting_toolbar, make_presentation_bar, make_print_caption

SYNTHETIC_TEXT = "Données fictives"

MAP_CONFIG = {
    "locale": "fr",  # assets/plotly-locale-fr.js, served by the app
    "displaylogo": False,
    "scrollZoom": True,
    "responsive": True,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": ["toImage", "sendChartToCloud", "sendDataToCloud", "editInChartStudio", "downloadJson"],
}
"""Toolbar of the map: nothing that uploads the figure (« Share chart » sends it, CAF data included, to Plotly
Cloud) and no bare image button (« Exporter PNG » gives the map with its legend, sources and « Données fictives »)."""


def _field(label: str, control: Component, target: str, hint: str = "") -> html.Div:
    children = [html.Label(label, htmlFor=target, className="field-label"), control]
    if hint:
        children.append(html.P(hint, className="hint"))
    return html.Div(children, className="field")


def make_controls(model: DashboardModel, state: ViewState) -> html.Div:
    """Left column: indicator, classification, territory filters, layers."""
    zone_options = []
    for key, label in ZONE_LAYERS.items():
        reason = model.layer_reason(key)
        # A layer without data stays in the list, disabled, with its reason (never drawn empty with a count).
        zone_options.append(
            {"label": f"{label} — indisponible : {reason}", "value": key, "disabled": True}
            if reason
            else {"label": label, "value": key}
        )
    point_options = [
        {"label": f"{layer.spec.label} ({len(layer.lon)})", "value": layer.spec.key}
        if layer.lon
        else {
            "label": f"{layer.spec.label} — indisponible : aucune structure",
            "value": layer.spec.key,
            "disabled": True,
        }
        for layer in model.point_layers
    ]
    drawable = model.drawable_layers()
    epci_options = [{"label": "Tout le département", "value": ""}] + [
        {"label": name, "value": code} for code, name in model.epci_names.items() if code in model.bounds
    ]
    communes = commune_options(model, selected=state.commune)
    available = set(model.columns)
    return html.Div(
        [
            _field(
                "Indicateur",
                dcc.Dropdown(
                    id=ids.INDICATOR_DROPDOWN,
                    options=indicator_options(model),
                    value=state.indicator if state.indicator in available else default_indicator(model.columns),
                    clearable=False,
                    searchable=True,
                ),
                ids.INDICATOR_DROPDOWN,
            ),
            html.P(id=ids.INDICATOR_DEFINITION, className="definition"),
            html.Fieldset(
                [
                    html.Legend("Classes"),
                    dcc.RadioItems(id=ids.METHOD_RADIO, options=method_options(), value=state.method),
                    _field(
                        "Nombre de classes",
                        dcc.Dropdown(
                            id=ids.CLASS_COUNT,
                            options=[{"label": str(k), "value": k} for k in range(MIN_CLASSES, MAX_CLASSES + 1)],
                            value=state.k,
                            clearable=False,
                            searchable=False,
                        ),
                        ids.CLASS_COUNT,
                    ),
                    _field(
                        "Seuils manuels",
                        dcc.Input(
                            id=ids.BREAKS_INPUT,
                            type="text",
                            value=state.breaks,
                            placeholder="ex. 10 ; 20 ; 35,5",
                            debounce=True,
                        ),
                        ids.BREAKS_INPUT,
                        "Séparés par « ; », utilisés avec « Seuils manuels ».",
                    ),
                    html.P(id=ids.BREAKS_ERROR, className="error", role="alert"),
                ],
                id=ids.CLASS_CONTROLS,
                # Method, number of classes and breaks mean nothing for a categorical indicator: hidden there.
                hidden=class_controls_hidden(model, state.indicator),
            ),
            _field(
                "Territoire (EPCI)",
                dcc.Dropdown(
                    id=ids.EPCI_DROPDOWN, options=epci_options, value=state.epci, clearable=False, searchable=True
                ),
                ids.EPCI_DROPDOWN,
            ),
            _field(
                "Chercher une commune (nom ou code Insee)",
                dcc.Dropdown(
                    id=ids.COMMUNE_DROPDOWN,
                    options=communes,
                    value=state.commune or None,
                    placeholder=model.territory.search_placeholder if model.territory else "nom ou code Insee…",
                    searchable=True,
                    clearable=True,
                ),
                ids.COMMUNE_DROPDOWN,
            ),
            html.Fieldset(
                [
                    html.Legend("Structures"),
                    dcc.Checklist(
                        id=ids.POINT_LAYERS,
                        options=point_options,
                        value=[
                            k for k in state.layers if k in drawable and any(o["value"] == k for o in point_options)
                        ],
                    ),
                    html.P("Aucune couche de structures dans ce bundle.", className="muted")
                    if not point_options
                    else None,
                ]
            ),
            html.Fieldset(
                [
                    html.Legend("Zonages et limites"),
                    dcc.Checklist(
                        id=ids.ZONE_LAYERS,
                        options=zone_options,
                        value=[k for k in state.layers if k in drawable and any(o["value"] == k for o in zone_options)],
                    ),
                ]
            ),
        ],
        className="controls",
    )


def make_map_panel(model: DashboardModel, state: ViewState, classes: Classification) -> html.Div:
    """Centre column: the map (with the « Données fictives » overlay when needed) and its legends."""
    overlay = (
        html.Div(SYNTHETIC_TEXT, id=ids.SYNTHETIC_BANNER, className="synthetic-banner", role="status")
        if model.synthetic
        else html.Div(id=ids.SYNTHETIC_BANNER, hidden=True)
    )
    graph = dcc.Graph(
        id=ids.MAP,
        figure=build_map_figure(model, state, classes),
        config=MAP_CONFIG,
        className="map",
    )
    return html.Div(
        [
            html.Div([graph, overlay], id=ids.MAP_WRAPPER, className="map-wrapper"),
            html.Div(
                [
                    html.Div(
                        make_legend(model, state.indicator, classes, state.epci), id=ids.LEGEND, className="legend"
                    ),
                    html.Div(
                        make_layer_legend(model, state.layers, state.epci), id=ids.LAYER_LEGEND, className="legend"
                    ),
                ],
                className="legends",
            ),
        ],
        className="map-panel",
    )


def build_layout(model: DashboardModel, state: ViewState, classes: Classification) -> html.Div:
    """Whole page for an initial view ``state`` (the URL callback then restores a shared link)."""
    title = f"Services aux familles : {model.departement_nom or 'département'} ({model.departement})"
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Download(id=ids.DOWNLOAD),
            html.Header(
                [
                    make_nav(),
                    html.H1(title),
                    html.P(
                        "Offre d'accueil, structures, zonages et bonus territoire par commune : "
                        "outil d'aide au diagnostic des Conventions territoriales globales (Caf)."
                    ),
                ],
                className="page-header",
            ),
            make_meeting_toolbar(),
            make_presentation_bar(),
            html.Main(
                [
                    make_controls(model, state),
                    make_map_panel(model, state, classes),
                    make_print_caption(),
                    html.Div(
                        [
                            html.Div(make_summary(model, state.epci), id=ids.SUMMARY, className="panel"),
                            html.Div(
                                make_commune_card(model, state.commune, state.indicator),
                                id=ids.COMMUNE_CARD,
                                className="panel",
                                **{"aria-live": "polite"},
                            ),
                            html.Div(
                                make_point_details(model, "", -1),
                                id=ids.DETAILS_PANEL,
                                className="panel",
                                **{"aria-live": "polite"},
                            ),
                        ],
                        className="side",
                    ),
                ],
                className="grid",
            ),
            html.Section(
                [
                    html.H2("Communes de la sélection"),
                    html.Div(
                        [
                            html.Button("Exporter en CSV", id=ids.EXPORT_CSV, className="button", n_clicks=0),
                            html.Button("Exporter en Excel (XLSX)", id=ids.EXPORT_XLSX, className="button", n_clicks=0),
                        ],
                        className="buttons",
                    ),
                    make_table(model, state.indicator, state.epci),
                ],
                className="table-section",
            ),
            make_targets_section(model, state.epci),
            html.Section(make_sources_panel(model), id=ids.SOURCES_PANEL, className="sources"),
        ],
        className="page",
        id=ids.PAGE,
        lang="fr",
    )
