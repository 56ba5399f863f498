"""Callbacks: unpack inputs, call one pure function per output, return. Registered with ``dash.callback``.

Every map update returns a :class:`dash.Patch` of values only (class codes, colours, visibility, opacity, view): the
geometry went to the browser once, by URL. The read-only :class:`~dashboard.core.model.DashboardModel` of the
running app is read once per request with :func:`dashboard.core.runtime.current_model`.
"""

from __future__ import annotations

from typing import Any

from dash import (
    ClientsideFunction,
    Input,
    NoUpdate,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    no_update,
)
from dash.exceptions import MissingCallbackContextException

from dashboard.core import ids
from dashboard.core.format import parse_breaks
from dashboard.core.model import ZONE_LAYERS, DashboardModel
from dashboard.core.runtime import current_model
from dashboard.core.state import (
    DEFAULT_INDICATOR,
    ViewState,
    carry_meeting,
    default_indicator,
    parse_state,
    parse_view,
    to_search,
)
from dashboard.core.targets import filter_targets, target_table_rows
from dashboard.exports.table import export_bytes, targets_download
from dashboard.map.card import make_commune_card, make_point_details
from dashboard.map.controls import class_controls_hidden, commune_options
from dashboard.map.figures import (
    choropleth_values,
    commune_opacity,
    layer_visibility,
    map_frame,
    nd_codes,
    trace_index,
    view_of,
)
from dashboard.map.legend import make_layer_legend, make_legend
from dashboard.map.summary import make_summary
from dashboard.map.table import table_columns, table_rows
from dashboard.map.targets import targets_summary

_CONTROLS = (
    ids.INDICATOR_DROPDOWN,
    ids.METHOD_RADIO,
    ids.CLASS_COUNT,
    ids.BREAKS_INPUT,
    ids.POINT_LAYERS,
    ids.ZONE_LAYERS,
    ids.EPCI_DROPDOWN,
    ids.COMMUNE_DROPDOWN,
)


def triggered() -> frozenset[str]:
    """Ids whose change fired the running callback; empty outside one (a direct call then updates everything)."""
    try:
        return frozenset(str(cid) for cid in ctx.triggered_prop_ids.values())
    except (LookupError, MissingCallbackContextException):
        return frozenset()


def only(*changed: str) -> bool:
    """Whether the running callback was fired by ``changed`` ids only (then outputs of other inputs stay as they are:
    an interaction sends what changed only, issue 14)."""
    fired = triggered()
    return bool(fired) and fired <= set(changed)


LEGEND_COUNTS = (2, 3)
"""Children of :func:`~dashboard.map.legend.make_legend` that depend on the selection: the classes with their counts
and the « Effectifs » line (title, unit, rule and sources depend on the indicator only)."""


def legend_counts_patch(legend: Any) -> Patch:
    """Patch of the legend's parts that an EPCI change changes (:data:`LEGEND_COUNTS`), not its static text."""
    patch = Patch()
    for index in LEGEND_COUNTS:
        patch["props"]["children"][index] = legend.children[index]
    return patch


def _breaks(text: str | None) -> tuple[tuple[float, ...], str]:
    try:
        return tuple(parse_breaks(text or "")), ""
    except ValueError as exc:
        return (), f"Seuils ignorés : {exc}."


def state_from_controls(
    indicator: str, method: str, k: int, breaks: str, points: list, zones: list, epci: str, commune: str
) -> ViewState:
    """The view described by the controls (None values from cleared dropdowns become defaults)."""
    return ViewState(
        indicator=indicator or DEFAULT_INDICATOR,
        method=method or "quantiles",
        k=int(k or 5),
        breaks=breaks or "",
        layers=tuple(points or ()) + tuple(zones or ()),
        epci=epci or "",
        commune=commune or "",
    )


def controls_from_state(model: DashboardModel, state: ViewState) -> tuple[Any, ...]:
    """Control values for a view, in the order of ``_CONTROLS``."""
    point_keys = {layer.spec.key for layer in model.point_layers}
    indicator = state.indicator if state.indicator in model.columns else default_indicator(model.columns)
    return (
        indicator,
        state.method,
        state.k,
        state.breaks,
        [k for k in state.layers if k in point_keys],
        [k for k in state.layers if k in ZONE_LAYERS],
        state.epci,
        state.commune or None,
    )


@callback(
    Output(ids.URL, "search"),
    *(Output(cid, "value") for cid in _CONTROLS),
    Input(ids.URL, "search"),
    *(Input(cid, "value") for cid in _CONTROLS),
)
def sync_url(search: str | None, *controls: Any) -> tuple[Any, ...]:
    """One callback both ways (Dash allows this loop inside a single callback): URL → controls on load, else back."""
    model = current_model()
    if ctx.triggered_id in (None, ids.URL):
        # Only controls whose value differs: setting a control to its current value would still fire every
        # dependent callback (Dash does not compare), i.e. a cascade of redraws on every page load.
        wanted = controls_from_state(model, parse_view(model, search))
        return (no_update, *(no_update if new == old else new for new, old in zip(wanted, controls, strict=True)))
    new_search = to_search(carry_meeting(state_from_controls(*controls), parse_state(search)))
    return (no_update if new_search == search else new_search, *(no_update for _ in _CONTROLS))


def classes_patch(model: DashboardModel, indicator: str, method: str, k: int, breaks: str) -> Patch:
    """Patch recolouring the communes: class codes, hover values, colourscale."""
    manual, _ = _breaks(breaks)
    classes = model.classification(indicator, method or "quantiles", int(k or 5), manual)
    patch = Patch()
    trace = patch["data"][trace_index(model, "communes")]
    for key, value in choropleth_values(model, indicator, classes).items():
        trace[key] = value
    nd = nd_codes(model, classes)
    outline = patch["data"][trace_index(model, "nd")]
    outline["locations"] = nd
    outline["z"] = [0] * len(nd)
    return patch


@callback(
    Output(ids.MAP, "figure", allow_duplicate=True),
    Input(ids.INDICATOR_DROPDOWN, "value"),
    Input(ids.METHOD_RADIO, "value"),
    Input(ids.CLASS_COUNT, "value"),
    Input(ids.BREAKS_INPUT, "value"),
    prevent_initial_call=True,
)
def update_map_classes(indicator: str, method: str, k: int, breaks: str) -> Patch | NoUpdate:
    """Recolour the map for the chosen indicator and classification."""
    model = current_model()
    if indicator not in model.columns:
        return no_update
    return classes_patch(model, indicator, method, k, breaks)


@callback(
    Output(ids.CLASS_CONTROLS, "hidden"),
    Input(ids.INDICATOR_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_class_controls(indicator: str) -> bool:
    """Hide method, number of classes and manual breaks for a categorical indicator."""
    return class_controls_hidden(current_model(), indicator)


@callback(
    Output(ids.LEGEND, "children"),
    Output(ids.INDICATOR_DEFINITION, "children"),
    Output(ids.BREAKS_ERROR, "children"),
    Input(ids.INDICATOR_DROPDOWN, "value"),
    Input(ids.METHOD_RADIO, "value"),
    Input(ids.CLASS_COUNT, "value"),
    Input(ids.BREAKS_INPUT, "value"),
    Input(ids.EPCI_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_legend(
    indicator: str, method: str, k: int, breaks: str, epci: str
) -> tuple[Any, str | NoUpdate, str | NoUpdate]:
    """Legend (counts in the current selection), definition of the indicator, error of the manual breaks."""
    model = current_model()
    if indicator not in model.columns:
        return no_update, no_update, no_update
    manual, error = _breaks(breaks)
    if method == "manuel" and not manual and not error:
        error = "Saisissez au moins un seuil (ex. 10 ; 20) : classes en quantiles en attendant."
    classes = model.classification(indicator, method or "quantiles", int(k or 5), manual)
    legend = make_legend(model, indicator, classes, epci or "")
    if only(ids.EPCI_DROPDOWN):
        return legend_counts_patch(legend), no_update, no_update
    return legend, model.columns[indicator].meta.definition, error


def layers_patch(model: DashboardModel, layers: list[str]) -> Patch:
    """Patch showing or hiding point and zone traces."""
    patch = Patch()
    for index, visible in layer_visibility(model, layers).items():
        patch["data"][index]["visible"] = visible
    return patch


@callback(
    Output(ids.MAP, "figure", allow_duplicate=True),
    Input(ids.POINT_LAYERS, "value"),
    Input(ids.ZONE_LAYERS, "value"),
    prevent_initial_call=True,
)
def update_map_layers(points: list[str], zones: list[str]) -> Patch:
    """Show the chosen layers only."""
    return layers_patch(current_model(), list(points or []) + list(zones or []))


@callback(
    Output(ids.LAYER_LEGEND, "children"),
    Input(ids.POINT_LAYERS, "value"),
    Input(ids.ZONE_LAYERS, "value"),
    Input(ids.EPCI_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_layer_legend(points: list[str], zones: list[str], epci: str) -> Any:
    """Legend of the active layers with their counts in the selection."""
    return make_layer_legend(current_model(), list(points or []) + list(zones or []), epci or "")


def view_patch(model: DashboardModel, epci: str, commune: str = "", viewport: dict | None = None) -> Patch:
    """Patch zooming on the chosen commune, else EPCI (or the département), fitted to the real map size, and
    dimming the communes outside the EPCI."""
    patch = Patch()
    center, zoom = view_of(model, epci, commune, viewport)
    width, height, _left = map_frame(viewport)
    patch["layout"]["height"] = height  # the same frame the view was fitted to
    patch["layout"]["map"]["center"] = center
    patch["layout"]["map"]["zoom"] = zoom
    patch["layout"]["map"]["uirevision"] = f"{epci or 'dep'}:{commune}:{width}x{height}"
    patch["data"][trace_index(model, "communes")]["marker"]["opacity"] = commune_opacity(model, epci)
    return patch


@callback(
    Output(ids.MAP, "figure", allow_duplicate=True),
    Input(ids.EPCI_DROPDOWN, "value"),
    Input(ids.COMMUNE_DROPDOWN, "value"),
    Input(ids.VIEWPORT, "data"),
    prevent_initial_call=True,
)
def update_map_view(epci: str, commune: str | None, viewport: dict | None) -> Patch:
    """Zoom to the chosen commune or EPCI, fitted to the map's real size, and dim the other communes."""
    model = current_model()
    return view_patch(model, epci if epci in model.bounds else "", commune or "", viewport)


clientside_callback(
    ClientsideFunction(namespace="ctgMap", function_name="names"),
    Output(ids.NAMES_TOGGLE, "className"),
    Input(ids.NAMES_TOGGLE, "value"),
)


@callback(
    Output(ids.MAP, "figure", allow_duplicate=True),
    Input(ids.COMMUNE_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_map_selection(commune: str | None) -> Patch:
    """Outline the chosen commune."""
    model = current_model()
    patch = Patch()
    selected = [commune] if commune in model.codes else []
    trace = patch["data"][trace_index(model, "selection")]
    trace["locations"] = selected
    trace["z"] = [0] * len(selected)
    return patch


@callback(
    Output(ids.COMMUNE_CARD, "children"),
    Input(ids.COMMUNE_DROPDOWN, "value"),
    Input(ids.INDICATOR_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_commune_card(commune: str | None, indicator: str) -> Any:
    """Card of the chosen commune (none chosen: the hint, sent again only when the commune was cleared)."""
    model = current_model()
    if indicator not in model.columns or (not commune and only(ids.INDICATOR_DROPDOWN)):
        return no_update
    return make_commune_card(model, commune or "", indicator)


@callback(
    Output(ids.TABLE, "data"),
    Output(ids.TABLE, "columns"),
    Output(ids.SUMMARY, "children"),
    Input(ids.INDICATOR_DROPDOWN, "value"),
    Input(ids.EPCI_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_table(indicator: str, epci: str) -> tuple[Any, Any, Any]:
    """Table and counts of the selection: columns follow the indicator only, the summary the EPCI only."""
    model = current_model()
    if indicator not in model.columns:
        return no_update, no_update, no_update
    columns = no_update if only(ids.EPCI_DROPDOWN) else table_columns(model, indicator)
    summary = no_update if only(ids.INDICATOR_DROPDOWN) else make_summary(model, epci or "")
    return table_rows(model, indicator, epci or ""), columns, summary


@callback(
    Output(ids.COMMUNE_DROPDOWN, "options"),
    Input(ids.COMMUNE_DROPDOWN, "search_value"),
    State(ids.COMMUNE_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_commune_options(search: str | None, selected: str | None) -> Any:
    """National bundle: commune options matching what the user types (a département has them all from the start)."""
    model = current_model()
    if not model.large or not search:
        return no_update
    return commune_options(model, search, selected or "")


def click_target(click: dict | None) -> tuple[str, str, int]:
    """What a map click hit: ``("commune", code, -1)``, ``("point", layer_key, index)`` or ``("", "", -1)``."""
    points = (click or {}).get("points") or []
    if not points:
        return "", "", -1
    point = points[0]
    custom = point.get("customdata")
    if isinstance(custom, str) and ":" in custom:
        key, _, index = custom.rpartition(":")
        if index.isdigit():
            return "point", key, int(index)
    if point.get("location"):
        return "commune", str(point["location"]), -1
    return "", "", -1


@callback(
    Output(ids.COMMUNE_DROPDOWN, "value", allow_duplicate=True),
    Output(ids.DETAILS_PANEL, "children"),
    Input(ids.MAP, "clickData"),
    prevent_initial_call=True,
)
def on_map_click(click: dict | None) -> tuple[Any, Any]:
    """A click on a commune picks it; a click on a structure shows its details."""
    model = current_model()
    kind, key, index = click_target(click)
    if kind == "commune" and key in model.codes:
        return key, no_update
    if kind == "point":
        return no_update, make_point_details(model, key, index)
    return no_update, no_update


def targets_patch(model: DashboardModel, codes: list[str]) -> Patch | Any:
    """Patch moving the « communes à cibler » outline to ``codes`` (no_update when the layer does not exist)."""
    if model.layer_reason("cibles"):
        return no_update
    patch = Patch()
    trace = patch["data"][trace_index(model, "cibles")]
    trace["locations"] = codes
    trace["z"] = [0] * len(codes)
    return patch


@callback(
    Output(ids.TARGETS_TABLE, "data"),
    Output(ids.TARGETS_SUMMARY, "children"),
    Output(ids.MAP, "figure", allow_duplicate=True),
    Input(ids.TARGETS_LEVELS, "value"),
    Input(ids.TARGETS_STATUTS, "value"),
    Input(ids.TARGETS_RATIO, "value"),
    Input(ids.EPCI_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def update_targets(levels: list[str], statuts: list[str], ratio: float, epci: str) -> tuple[Any, Any, Any]:
    """The ranked list for the chosen filters and territory, and its map layer."""
    model = current_model()
    rows = model.targets
    if rows is None or rows.reason:
        return no_update, no_update, no_update
    targets = filter_targets(rows, levels or [], statuts or [], float(ratio or 1.0), epci or "")
    codes = [str(c) for c in targets.table["code"]]
    return (
        target_table_rows(targets),
        targets_summary(model, len(codes), epci or ""),
        targets_patch(model, codes),
    )


@callback(
    Output(ids.TARGETS_DOWNLOAD, "data"),
    Input(ids.TARGETS_EXPORT, "n_clicks"),
    State(ids.TARGETS_LEVELS, "value"),
    State(ids.TARGETS_STATUTS, "value"),
    State(ids.TARGETS_RATIO, "value"),
    State(ids.EPCI_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def export_targets(_clicks: int, levels: list[str], statuts: list[str], ratio: float, epci: str) -> Any:
    """Download the list as on screen (« ; », decimal comma, formula-safe, « Données fictives » when fictitious)."""
    model = current_model()
    rows = model.targets
    if rows is None or rows.reason:
        return no_update
    targets = filter_targets(rows, levels or [], statuts or [], float(ratio or 1.0), epci or "")
    stem = f"communes_a_cibler_{model.departement}" + (f"_epci_{epci}" if epci else "")
    return dcc.send_bytes(targets_download(rows, targets, model.sources).encode("utf-8"), f"{stem}.csv")


@callback(
    Output(ids.DOWNLOAD, "data"),
    Input(ids.EXPORT_CSV, "n_clicks"),
    Input(ids.EXPORT_XLSX, "n_clicks"),
    State(ids.EPCI_DROPDOWN, "value"),
    prevent_initial_call=True,
)
def export_table(_csv: int, _xlsx: int, epci: str) -> dict:
    """Download the selection (server-side file, formula-safe cells)."""
    kind = "xlsx" if ctx.triggered_id == ids.EXPORT_XLSX else "csv"
    content, filename = export_bytes(current_model(), epci or "", kind)
    return dcc.send_bytes(content, filename)
