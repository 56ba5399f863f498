"""The map figure and the small values that update it: pure functions, no Dash import.

The first figure carries every trace with its geometry as a URL (plotly.js fetches it once, the browser caches it).
Afterwards callbacks only send values (class codes, colours, visibility, opacity, view) computed here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from dashboard.core.classify import CLASS_ND, ND_LINE_WIDTH, ND_OUTLINE, Classification
from dashboard.core.format import escape_text
from dashboard.core.model import ZONE_COLORS, DashboardModel
from dashboard.core.state import ViewState
from geodata.numbers import format_value

MAP_HEIGHT = 640
MAP_WIDTH = 600
"""Pixel size the zoom is computed for: the map panel of a 1366 px laptop screen, so the whole territory shows there;
wider screens and projectors get a margin around it rather than a cropped coast."""

DIM_OPACITY = 0.25
FULL_OPACITY = 0.9
TRANSPARENT = [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]]


def trace_keys(model: DashboardModel) -> list[str]:
    """Trace order of the map, so callbacks can patch ``data[i]`` by key."""
    keys = []
    if "contexte" in model.geo:
        keys.append("contexte")
    keys += ["communes", "nd"]
    keys += [name for name in ("qpv2015", "qpv2024") if name in model.geo]
    keys += [name for name in ("zrr", "zrr_sortante", "frr", "ctg") if name in model.zones]
    if not model.layer_reason("cibles"):
        keys.append("cibles")
    keys += ["epci", "departement", "selection"]
    keys += [f"pt:{layer.spec.key}" for layer in model.point_layers]
    return keys


def trace_index(model: DashboardModel, key: str) -> int:
    """Position of a trace in ``figure.data``."""
    return trace_keys(model).index(key)


def view_for_bounds(
    bounds: tuple[float, float, float, float], width: int = MAP_WIDTH, height: int = MAP_HEIGHT, padding: float = 0.03
) -> tuple[dict[str, float], float]:
    """Centre and zoom (MapLibre, 512 px tiles) fitting a lon/lat box in a map of ``width`` × ``height`` pixels."""
    west, south, east, north = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_span = max(east - west, 1e-4) * (1 + 2 * padding)
    y_span = max(merc(north) - merc(south), 1e-6) * (1 + 2 * padding)
    zoom = min(math.log2(width * 360 / (512 * lon_span)), math.log2(height * 2 * math.pi / (512 * y_span)))
    y_mid = (merc(north) + merc(south)) / 2
    lat_mid = math.degrees(2 * math.atan(math.exp(y_mid)) - math.pi / 2)
    return {"lon": round((west + east) / 2, 5), "lat": round(lat_mid, 5)}, round(min(zoom, 13.0), 2)


def commune_opacity(model: DashboardModel, epci: str) -> float | list[float]:
    """Marker opacity of the communes: one number for the whole département, else dim the communes outside the EPCI.

    A national bundle only zooms: an opacity per commune would send 35 000 numbers (~180 KB) per EPCI change.
    """
    if not epci or model.large:
        return FULL_OPACITY
    return [FULL_OPACITY if code == epci else DIM_OPACITY for code in model.epci_codes]


def compact_hover(model: DashboardModel) -> bool:
    """Whether hover values travel with each indicator change instead of all at once in the first figure.

    For a département the first figure carries the hover values of every indicator (a recolouring patch then stays
    ~1 KB); for the national bundle (:attr:`DashboardModel.large`) only the current indicator's, patched on change.
    """
    return model.large


def hovertemplate(model: DashboardModel, indicator: str) -> str:
    """Hover of a commune: escaped name (``text``) and formatted value (``customdata``) of the indicator."""
    meta = model.columns[indicator].meta
    unit = f" ({escape_text(meta.unit)})" if meta.unit else ""
    column = 0 if compact_hover(model) else list(model.columns).index(indicator)
    extra = ""
    if indicator == "sous_dotation" and "bonus_statut" in model.columns and not compact_hover(model):
        # The under-served map answers « and what would the CAF pay here? » on hover, in the words of every view.
        bonus = list(model.columns).index("bonus_statut")
        extra = f"<br>Bonus territoire : %{{customdata[{bonus}]}}"
    return f"<b>%{{text}}</b><br>{escape_text(meta.label)}{unit} : %{{customdata[{column}]}}{extra}<extra></extra>"


def hover_matrix(model: DashboardModel, indicator: str) -> list[list[str]]:
    """Formatted value of every indicator per commune, sent once in the first figure as ``customdata``.

    Why: recolouring then only changes ``hovertemplate`` to point at another column, so a patch stays ~1 KB. For a
    national bundle that matrix would be tens of MB: only ``indicator``'s column is sent (see :func:`compact_hover`).
    """
    if compact_hover(model):
        return [[v] for v in escape_text_column(model.columns[indicator].display)]
    columns = [escape_text_column(col.display) for col in model.columns.values()]
    return [list(row) for row in zip(*columns, strict=True)] if columns else [[] for _ in model.codes]


def escape_text_column(values: Sequence[str]) -> list[str]:
    """Escape every text of a column for plotly hover."""
    return [escape_text(v) for v in values]


def choropleth_values(model: DashboardModel, indicator: str, classes: Classification) -> dict[str, Any]:
    """The few values that recolour the communes for another indicator or classification (about 1 KB)."""
    values = {
        "z": list(classes.codes),
        "colorscale": classes.colorscale,
        "zmin": classes.zmin,
        "zmax": classes.zmax,
        "hovertemplate": hovertemplate(model, indicator),
    }
    if compact_hover(model):
        values["customdata"] = hover_matrix(model, indicator)
    return values


_TOGGLED = frozenset({"epci", "qpv2015", "qpv2024", "zrr", "zrr_sortante", "frr", "ctg", "cibles"})
"""Traces shown only when their layer is chosen (the others are always drawn)."""


def layer_visibility(model: DashboardModel, layers: Sequence[str]) -> dict[int, bool]:
    """Trace index → visible, for every toggleable trace."""
    chosen = set(layers)
    visible = {}
    for i, key in enumerate(trace_keys(model)):
        name = key.removeprefix("pt:")
        if key.startswith("pt:") or key in _TOGGLED:
            visible[i] = name in chosen
    return visible


def nd_codes(model: DashboardModel, classes: Classification) -> list[str]:
    """Communes « non disponible » for these classes: outlined in dark grey over their white fill, so they never look
    like the light grey communes outside the territory (a short list: the patch stays small)."""
    return [code for code, c in zip(model.codes, classes.codes, strict=True) if c == CLASS_ND]


def initial_target_codes(model: DashboardModel, epci: str) -> list[str]:
    """Communes of the default « à cibler » filters (what the list shows on page load)."""
    from dashboard.core.targets import filter_targets

    rows = model.targets
    targets = filter_targets(rows, rows.default_levels, rows.default_statuts, rows.default_ratio, epci)
    return [str(c) for c in targets.table["code"]]


def _outline(url: str, ids: Sequence[str], color: str, width: float, name: str, visible: bool) -> go.Choroplethmap:
    return go.Choroplethmap(
        geojson=url,
        locations=list(ids),
        featureidkey="id",
        z=[0] * len(ids),
        colorscale=TRANSPARENT,
        showscale=False,
        marker={"line": {"color": color, "width": width}, "opacity": 1},
        hoverinfo="skip",
        name=name,
        visible=visible,
    )


def build_map_figure(model: DashboardModel, state: ViewState, classes: Classification) -> go.Figure:
    """The complete initial map: every trace, its geometry URL, the current classes, layers and view."""
    visible = layer_visibility(model, state.layers)
    traces: list[Any] = []
    for i, key in enumerate(trace_keys(model)):
        shown = visible.get(i, True)
        if key == "contexte":
            ids = model.geo_ids["contexte"]
            traces.append(
                go.Choroplethmap(
                    geojson=model.geo_url("contexte"),
                    locations=list(ids),
                    featureidkey="id",
                    z=[0] * len(ids),
                    colorscale=[[0, "#f2f2f2"], [1, "#f2f2f2"]],
                    showscale=False,
                    marker={"line": {"color": "#c8c8c8", "width": 0.6}, "opacity": 1},
                    hoverinfo="skip",
                    name="Communes voisines",
                )
            )
        elif key == "communes":
            values = choropleth_values(model, state.indicator, classes)
            traces.append(
                go.Choroplethmap(
                    geojson=model.geo_url("communes"),
                    locations=list(model.codes),
                    featureidkey="id",
                    text=[escape_text(name) for name in model.names],
                    showscale=False,
                    marker={"line": {"color": "#ffffff", "width": 0.7}, "opacity": commune_opacity(model, state.epci)},
                    name="Communes",
                    **{"customdata": hover_matrix(model, state.indicator), **values},
                )
            )
        elif key == "nd":
            codes = nd_codes(model, classes)
            traces.append(_outline(model.geo_url("communes"), codes, ND_OUTLINE, ND_LINE_WIDTH, "Non disponible", True))
        elif key == "cibles":
            codes = initial_target_codes(model, state.epci)
            traces.append(_outline(model.geo_url("communes"), codes, ZONE_COLORS["cibles"], 3.2, key, shown))
        elif key in {"qpv2015", "qpv2024"}:
            traces.append(_outline(model.geo_url(key), model.geo_ids[key], ZONE_COLORS[key], 2.2, key, shown))
        elif key in {"zrr", "zrr_sortante", "frr", "ctg"}:
            width = {"zrr": 3.0, "zrr_sortante": 2.0, "frr": 1.8, "ctg": 2.4}[key]
            traces.append(_outline(model.geo_url("communes"), model.zones[key], ZONE_COLORS[key], width, key, shown))
        elif key == "epci":
            traces.append(_outline(model.geo_url("epci"), model.geo_ids["epci"], ZONE_COLORS["epci"], 1.6, key, shown))
        elif key == "departement":
            ids = model.geo_ids["departement"]
            traces.append(_outline(model.geo_url("departement"), ids, "#1a1a1a", 2.4, key, True))
        elif key == "selection":
            selected = [state.commune] if state.commune in model.codes else []
            traces.append(_outline(model.geo_url("communes"), selected, "#000000", 3.5, "Commune choisie", True))
        else:
            layer = next(p for p in model.point_layers if f"pt:{p.spec.key}" == key)
            traces.append(
                go.Scattermap(
                    lon=list(layer.lon),
                    lat=list(layer.lat),
                    mode="markers",
                    marker={"color": layer.spec.color, "size": list(layer.sizes), "opacity": 0.9},
                    hovertext=list(layer.hover),
                    hovertemplate="%{hovertext}<extra></extra>",
                    customdata=[f"{layer.spec.key}:{i}" for i in range(len(layer.lon))],
                    name=layer.spec.label,
                    visible=shown,
                )
            )
    center, zoom = view_for_bounds(model.bounds.get(state.epci, model.bounds[""]))
    map_layout: dict[str, Any] = {
        "style": "white-bg",
        "center": center,
        "zoom": zoom,
        "uirevision": state.epci or "dep",
    }
    if model.tile_url:
        map_layout["layers"] = [
            {
                "sourcetype": "raster",
                "source": [model.tile_url],
                "below": "traces",
                "sourceattribution": model.tile_attribution,
                "opacity": 0.6,
            }
        ]
    fig = go.Figure(data=traces)
    fig.update_layout(
        map=map_layout,
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        height=MAP_HEIGHT,
        showlegend=False,
        paper_bgcolor="#ffffff",
        hoverlabel={"bgcolor": "#ffffff", "font": {"size": 14, "color": "#111111"}},
        clickmode="event",
    )
    return fig


def build_comparison_figure(model: DashboardModel, indicator: str, code: str) -> go.Figure | None:
    """Small bar chart: the commune's value beside its EPCI, the département and France (numeric indicators)."""
    col = model.columns[indicator]
    if getattr(col.meta, "kind", "numeric") == "category":
        return None
    rows = comparison_rows(model, indicator, code)
    shown = [(label, value, text) for label, value, text in rows if value is not None]
    if not shown:
        return None
    fig = go.Figure(
        go.Bar(
            x=[value for _, value, _ in shown],
            y=[escape_text(label) for label, _, _ in shown],
            orientation="h",
            text=[escape_text(text) for _, _, text in shown],
            textposition="auto",
            marker={"color": ["#225ea8", "#7fcdbb", "#c7e9b4", "#edf8b1"][: len(shown)], "line": {"color": "#333"}},
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        height=40 + 34 * len(shown),
        margin={"l": 10, "r": 10, "t": 10, "b": 20},
        yaxis={"autorange": "reversed"},
        xaxis={"separatethousands": True},
        separators=", ",
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        font={"size": 12},
    )
    return fig


def comparison_rows(model: DashboardModel, indicator: str, code: str) -> list[tuple[str, float | None, str]]:
    """(territory label, value or None, formatted text) for the commune, its EPCI, the département and France."""
    col = model.columns[indicator]
    meta = col.meta
    i = model.index_of(code)
    if i is None:
        return []
    ind = model.indicators
    epci = model.epci_codes[i]
    rows: list[tuple[str, float | None, str]] = []

    def add(label: str, value: Any, state: str) -> None:
        real = state == "valeur" and value is not None and not (isinstance(value, float) and math.isnan(value))
        number = float(value) if real and not isinstance(value, str) else None
        text = str(value) if real and isinstance(value, str) else format_value(number, state, meta.decimals, meta.unit)
        rows.append((label, number, text))

    add(model.names[i], col.values[i], col.states[i])
    for label, result, key in (
        (model.epci_names.get(epci, "EPCI"), ind.epci, epci),
        (f"Département {model.departement}", ind.departement, model.departement),
        ("France", ind.france, "FR"),
    ):
        value, state = _lookup(result, key, indicator)
        add(label, value, state)
    return rows


def _lookup(result: Any, key: str, indicator: str) -> tuple[Any, str]:
    try:
        value = result.values.at[key, indicator]
        state = str(result.states.at[key, indicator])
    except (KeyError, AttributeError):
        return None, "nd"
    return value, state
