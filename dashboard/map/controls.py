"""Left column of the map page: indicator, classification, territory filters, layers. Pure."""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from dash.development.base_component import Component

from dashboard.core import ids
from dashboard.core.classify import MAX_CLASSES, METHODS, MIN_CLASSES
from dashboard.core.model import ZONE_LAYERS, DashboardModel
from dashboard.core.state import ViewState, default_indicator


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
        chosen = model.index_of(selected) if selected and selected not in keep else None
        if chosen is not None:
            matches.insert(0, (selected, model.names[chosen]))
        pairs = matches
    return [{"label": f"{name} ({code})", "value": code, "search": f"{name} {code}"} for code, name in pairs]


def _fold(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def method_options() -> list[dict[str, str]]:
    """Classification methods for the radio items."""
    return [{"label": label, "value": value} for value, label in METHODS.items()]


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
    shown = state.indicator if state.indicator in available else default_indicator(model.columns)
    definition = model.columns[shown].meta.definition if shown in available else ""
    return html.Div(
        [
            _field(
                "Indicateur",
                dcc.Dropdown(
                    id=ids.INDICATOR_DROPDOWN,
                    options=indicator_options(model),
                    value=shown,
                    clearable=False,
                    searchable=True,
                ),
                ids.INDICATOR_DROPDOWN,
            ),
            # In the page from the start: an EPCI change does not send it again (issue 14).
            html.P(definition, id=ids.INDICATOR_DEFINITION, className="definition"),
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
            dcc.Checklist(
                id=ids.NAMES_TOGGLE,
                options=[{"label": "Noms des communes", "value": "noms"}],
                value=["noms"],
                className="names-toggle",
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
