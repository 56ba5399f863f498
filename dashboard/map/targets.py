"""The « communes à cibler » section of the map page: filters, ranked table, CSV export button. Pure."""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from dash.dash_table.DataTable import DataTable

from dashboard.core import ids
from dashboard.core.model import DashboardModel
from dashboard.core.targets import ALL_LEVELS, ALL_STATUTS, RATIO_CHOICES, filter_targets, target_table_rows
from dashboard.map.table import TABLE_FONT, french_format
from indicators.targets import RANK_CHILDREN


def target_columns(model: DashboardModel) -> list[dict[str, Any]]:
    """Columns of the « communes à cibler » table (numbers stay numbers: the table sorts)."""
    rows = model.targets
    unit = rows.unit if rows is not None else ""
    one = {"type": "numeric", "format": french_format(1)}
    whole = {"type": "numeric", "format": french_format(0)}
    columns: list[dict[str, Any]] = [
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
    table = DataTable(
        id=ids.TARGETS_TABLE,
        columns=target_columns(model),  # type: ignore[arg-type]  # typed as TypedDicts; plain dicts here
        data=data,  # type: ignore[arg-type]
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
