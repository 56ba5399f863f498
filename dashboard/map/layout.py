"""The page: composes the ``make_*`` factories. Pure (no callbacks, no I/O); ids come from :mod:`dashboard.core.ids`."""

from __future__ import annotations

from dash import dcc, html

from dashboard.core import ids
from dashboard.core.classify import Classification
from dashboard.core.model import DashboardModel
from dashboard.core.state import ViewState
from dashboard.core.widgets import aria, make_nav
from dashboard.map.card import make_commune_card, make_point_details
from dashboard.map.controls import make_controls
from dashboard.map.figures import build_map_figure
from dashboard.map.legend import make_layer_legend, make_legend
from dashboard.map.sources import make_sources_panel
from dashboard.map.summary import make_summary
from dashboard.map.table import make_table
from dashboard.map.targets import make_targets_section
from dashboard.meeting.layout import make_meeting_toolbar, make_presentation_bar, make_print_caption

SYNTHETIC_TEXT = "Données fictives"

MAP_CONFIG: dcc.Graph.Config = {
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
                                **aria(live="polite"),
                            ),
                            html.Div(
                                make_point_details(model, "", -1),
                                id=ids.DETAILS_PANEL,
                                className="panel",
                                **aria(live="polite"),
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
