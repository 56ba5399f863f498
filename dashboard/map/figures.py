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
from dashboard.map.points import drawn_positions, point_symbols
from dashboard.map.symbols import MARKER_SIZE
from geodata.numbers import format_value

MAP_HEIGHT = 640
MAP_WIDTH = 600
"""Pixel size the zoom is computed for: the map panel of a 1366 px laptop screen, so the whole territory shows there;
wider screens and projectors get a margin around it rather than a cropped coast."""

NAMES_LAYER = "ctg-noms-communes"
TOWNS_LAYER = "ctg-noms-villes"
"""Style layers of the commune names (MapLibre text, drawn over every trace; see ``docs/spikes/labels.md``)."""
GLYPHS_URL = "/assets/glyphs/{fontstack}/{range}.pbf"
"""Glyphs served by the app itself (``assets/glyphs``): the map makes no request to another server."""
FONT_REGULAR = "Klokantech Noto Sans Regular"
FONT_BOLD = "Klokantech Noto Sans Bold"
NAMES_REFERENCE_SIZES = ((450, 610), (1190, 930))
"""Free map frame (px, legends excluded) on 1024×768 and 1920×1080 screens: the names' zoom threshold lies between the
département view on the largest and the widest EPCI's view on the smallest (measured, see the browser tests)."""

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
    bounds: tuple[float, float, float, float],
    width: int = MAP_WIDTH,
    height: int = MAP_HEIGHT,
    padding: float = 0.03,
    left: int = 0,
) -> tuple[dict[str, float], float]:
    """Centre and zoom (MapLibre, 512 px tiles) fitting a lon/lat box in a map of ``width`` × ``height`` pixels.

    ``left``: pixels on the map's left edge covered by the legends; the box fits the rest, so no commune of the
    territory shown lies under the legends or the « Données fictives » badge.
    """
    west, south, east, north = bounds
    left = max(0, min(int(left), int(width) // 2))
    width = int(width) - left

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    lon_span = max(east - west, 1e-4) * (1 + 2 * padding)
    y_span = max(merc(north) - merc(south), 1e-6) * (1 + 2 * padding)
    zoom = min(math.log2(width * 360 / (512 * lon_span)), math.log2(height * 2 * math.pi / (512 * y_span)))
    y_mid = (merc(north) + merc(south)) / 2
    lat_mid = math.degrees(2 * math.atan(math.exp(y_mid)) - math.pi / 2)
    zoom = round(min(zoom, 13.0), 2)
    shift = (left / 2) * 360 / (512 * 2**zoom)  # the map's centre sits half the legends' width left of the box's
    return {"lon": round((west + east) / 2 - shift, 5), "lat": round(lat_mid, 5)}, zoom


MIN_MAP_HEIGHT = 420
PRESENTATION_RESERVED_PX = 120
PRINT_RESERVED_PX = 70
SCREEN_BOTTOM_PX = 12
"""Space kept under the map on screen (the map fills the window from its top down to this margin)."""


def map_frame(viewport: dict | None) -> tuple[int, int, int]:
    """(width, height, legends' width over its left edge) of the map, from what the browser measured.

    Why: the view must fit the real map, not a fixed size, or the territory is cropped on a laptop and lost in white
    on a projector. ``viewport`` (filled by ``assets/presentation.js``): mode, window height, map width, map top and
    the width of the legends drawn over the map. Missing values fall back to the fixed :data:`MAP_WIDTH` size.
    """
    viewport = viewport or {}
    height = int(viewport.get("height") or 0)
    width = int(viewport.get("map_width") or 0) or MAP_WIDTH
    left = int(viewport.get("legend_px") or 0)
    mode = viewport.get("mode")
    if not height:
        return width, MAP_HEIGHT, left
    if mode == "presentation":
        return width, max(MIN_MAP_HEIGHT, height - PRESENTATION_RESERVED_PX), left
    if mode == "impression":
        return width, max(MIN_MAP_HEIGHT, height - PRINT_RESERVED_PX), left
    top = int(viewport.get("map_top") or 0)
    return width, max(MIN_MAP_HEIGHT, height - top - SCREEN_BOTTOM_PX), left


def commune_bounds(model: DashboardModel, code: str) -> tuple[float, float, float, float] | None:
    """Box of a commune widened by half its size on each side: the commune fills half the frame, its neighbours show."""
    box = model.commune_bounds.get(code)
    if box is None:
        return None
    west, south, east, north = box
    pad_x, pad_y = max((east - west) / 2, 0.01), max((north - south) / 2, 0.008)
    return west - pad_x, south - pad_y, east + pad_x, north + pad_y


def view_of(model: DashboardModel, epci: str, commune: str, viewport: dict | None) -> tuple[dict[str, float], float]:
    """Centre and zoom of the map for the chosen commune (if any), else the chosen EPCI or the département, fitted
    to the real map size. A commune is always shown closer than its territory."""
    width, height, left = map_frame(viewport)
    territory = view_for_bounds(model.bounds.get(epci, model.bounds[""]), width, height, left=left)
    box = commune_bounds(model, commune) if commune else None
    if box is None:
        return territory
    center, zoom = view_for_bounds(box, width, height, left=left)
    if zoom < territory[1] + 0.5:
        zoom = round(territory[1] + 0.5, 2)
        west, _south, east, _north = box
        center = {**center, "lon": round((west + east) / 2 - (min(left, width // 2) / 2) * 360 / (512 * 2**zoom), 5)}
    return center, zoom


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


HIDDEN = "legendonly"
"""A hidden trace. Not ``False``: plotly fills no attribute of a ``visible=False`` trace, ``below`` included, so its
layers would be added on top of the names when shown again; « legendonly » hides it on a map and keeps its slot."""


def layer_visibility(model: DashboardModel, layers: Sequence[str]) -> dict[int, bool | str]:
    """Trace index → ``True`` or :data:`HIDDEN`, for every toggleable trace."""
    chosen = set(layers)
    visible: dict[int, bool | str] = {}
    for i, key in enumerate(trace_keys(model)):
        name = key.removeprefix("pt:")
        if key.startswith("pt:") or key in _TOGGLED:
            visible[i] = True if name in chosen else HIDDEN
    return visible


def slot_id(index: int) -> str:
    """Id of the empty style layer trace ``index`` is drawn under (its ``below``).

    One slot per trace, in trace order, all under the names: a ``below`` shared by several traces makes plotly remove
    and re-add them at each update, and a point layer shown again then ends under the communes.
    """
    return f"ctg-trace-{index:02d}"


def names_minzoom(bounds: dict[str, tuple[float, float, float, float]]) -> float:
    """Zoom from which every commune is named: above the département's full view on the largest screen, below the
    widest EPCI's view on a 1024×768 screen (the towns are named at every zoom)."""
    small, large = NAMES_REFERENCE_SIZES
    dep = view_for_bounds(bounds[""], *large)[1]
    epcis = [view_for_bounds(b, *small)[1] for code, b in bounds.items() if code]
    widest = min(epcis, default=dep + 1.0)
    return round(min(dep + 0.25, (dep + widest) / 2) if widest > dep else dep + 0.25, 2)


def map_style(model: DashboardModel, traces: int, names: bool = True) -> dict[str, Any]:
    """The complete MapLibre style of the map: white background, one empty slot layer per trace (see
    :func:`slot_id`), then the commune names from ``/geo/<hash>/noms.json`` (towns in bold at every zoom, the others
    from :func:`names_minzoom`; MapLibre's collision keeps them from overlapping, ``ordre`` decides who wins).

    Why a style object: plotly's ``white-bg`` fetches its fonts from another server. The style must stay identical
    between updates (any change makes MapLibre rebuild every layer); the names switch is done in the browser.
    """
    visibility = "visible" if names else "none"
    common = {
        "text-field": ["get", "nom"],
        "symbol-sort-key": ["get", "ordre"],
        "text-padding": 2,
        "text-variable-anchor": ["center", "top", "bottom", "left", "right"],
        "text-radial-offset": 0.4,
        "text-max-width": 11,
        "visibility": visibility,
    }
    paint = {"text-color": "#111111", "text-halo-color": "#ffffff", "text-halo-width": 1.8, "text-halo-blur": 0.2}
    layers: list[dict[str, Any]] = [{"id": "fond", "type": "background", "paint": {"background-color": "#ffffff"}}]
    layers += [{"id": slot_id(i), "type": "background", "layout": {"visibility": "none"}} for i in range(traces)]
    style: dict[str, Any] = {
        "version": 8,
        "name": "ctg-carto",
        "glyphs": GLYPHS_URL,
        "sources": {},
        "layers": layers,
    }
    if "noms" in model.geo:
        style["sources"]["ctg-noms"] = {"type": "geojson", "data": model.geo_url("noms")}
        layers += [
            {
                "id": NAMES_LAYER,
                "type": "symbol",
                "source": "ctg-noms",
                "minzoom": names_minzoom(model.bounds),
                "filter": ["!", ["get", "ville"]],
                "layout": {
                    **common,
                    "text-font": ["literal", [FONT_REGULAR]],
                    "text-size": ["interpolate", ["linear"], ["zoom"], 9, 13, 12, 16],
                },
                "paint": paint,
            },
            {
                "id": TOWNS_LAYER,
                "type": "symbol",
                "source": "ctg-noms",
                "filter": ["get", "ville"],
                "layout": {
                    **common,
                    "text-font": ["literal", [FONT_BOLD]],
                    "text-size": ["interpolate", ["linear"], ["zoom"], 8, 14, 12, 18],
                },
                "paint": paint,
            },
        ]
    return style


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


def _outline(
    url: str, ids: Sequence[str], color: str, width: float, name: str, visible: bool | str
) -> go.Choroplethmap:
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
            lons, lats = drawn_positions(model, layer)
            traces.append(
                go.Scattermap(
                    lon=list(lons),
                    lat=list(lats),
                    mode="markers",
                    # A sprite image per point (shape, colour, halo; crèches sized by places): dashboard.map.symbols.
                    marker={
                        "symbol": point_symbols(layer),
                        "size": MARKER_SIZE,
                        "color": layer.spec.color,
                        "allowoverlap": True,
                    },
                    hovertext=list(layer.hover),
                    hovertemplate="%{hovertext}<extra></extra>",
                    customdata=[f"{layer.spec.key}:{i}" for i in range(len(layer.lon))],
                    name=layer.spec.label,
                    visible=shown,
                )
            )
    for index, trace in enumerate(traces):
        trace.below = slot_id(index)
        if trace.visible is False:
            trace.visible = HIDDEN
    center, zoom = view_for_bounds(model.bounds.get(state.epci, model.bounds[""]))
    map_layout: dict[str, Any] = {
        "style": map_style(model, len(traces)),
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
