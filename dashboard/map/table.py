"""The sortable table of the communes of the selection: columns (numbers stay numbers, French separators) and rows."""

from __future__ import annotations

import math
from typing import Any

from dash.dash_table.DataTable import DataTable
from dash.dash_table.Format import Format, Group, Scheme

from dashboard.core import ids
from dashboard.core.model import DETAIL_TEXTS, DashboardModel

TABLE_FONT = '"Marianne", "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
"""The page's font, named: DataTable cells otherwise fall back to a monospace font."""


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
    columns: list[dict[str, Any]] = [
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


def make_table(model: DashboardModel, indicator: str, epci: str) -> DataTable:
    """Sortable table of the selection."""
    return DataTable(
        id=ids.TABLE,
        columns=table_columns(model, indicator),  # type: ignore[arg-type]  # typed as TypedDicts; plain dicts here
        data=table_rows(model, indicator, epci),  # type: ignore[arg-type]
        sort_action="native",
        page_size=20,
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": TABLE_FONT, "fontSize": "14px", "textAlign": "left", "padding": "4px 8px"},
        style_header={"fontWeight": "bold", "backgroundColor": "#eef2f7"},
        locale_format={"decimal": ",", "group": "\u202f"},
    )
