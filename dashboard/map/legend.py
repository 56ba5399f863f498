"""Legends of the map: the classes of the indicator with counts and shares, the rule and the sources; the
active layers with their counts. Pure component factories.
"""

from __future__ import annotations

from collections.abc import Sequence

from dash import html

from dashboard.core.classify import CLASS_ND, ND_OUTLINE, Classification
from dashboard.core.model import ZONE_COLORS, ZONE_LAYERS, DashboardModel
from dashboard.core.widgets import aria
from dashboard.map.symbols import SPRITE_URL, sprite_index, symbol_name
from geodata.numbers import format_number, plural


def make_swatch(color: str, outline: str = "#555555", shape: str = "square") -> html.Span:
    """Coloured square (classes) or ring (outline layers) shown before a legend label."""
    style = {"backgroundColor": color, "borderColor": outline}
    if outline == ND_OUTLINE:
        style["borderWidth"] = "2px"
    return html.Span(className=f"swatch swatch-{shape}", style=style, **aria(hidden="true"))


def make_symbol_swatch(key: str) -> html.Span:
    """The structure's own map symbol (shape, colour, halo), cut from the sprite the map uses."""
    box = sprite_index().get(symbol_name(key, 2 if key == "eaje" else 0))
    if box is None:
        return make_swatch("transparent", "#555555", "circle")
    style = {
        "backgroundImage": f"url({SPRITE_URL}.png)",
        "backgroundPosition": f"-{box['x']}px -{box['y']}px",
        "width": f"{box['width']}px",
        "height": f"{box['height']}px",
    }
    return html.Span(className="swatch-symbol", style=style, **aria(hidden="true"))


def share_text(count: int, total: int) -> str:
    """« 12 communes (5 %) »: the count and the share of the communes of the selection."""
    pct = 100 * count / total if total else 0.0
    share = (" (< 1 %)" if 0 < pct < 0.5 else f" ({format_number(pct, 0)} %)") if total else ""
    return f"{count} commune{'s' if count > 1 else ''}{share}"


def make_legend(model: DashboardModel, indicator: str, classes: Classification, epci: str = "") -> html.Div:
    """Legend of the choropleth: title, unit, classes with counts and shares, the rule and its parameters, then
    source and vintage of every input."""
    col = model.columns[indicator]
    meta = col.meta
    counts = classes.counts(model.mask(epci))
    total = sum(counts.values())
    items = []
    for legend_bin in classes.bins:
        count = counts.get(legend_bin.code, 0)
        special = legend_bin.code < 2 or (meta.kind != "category" and legend_bin.code == 2)
        if special and count == 0:
            continue
        outline = ND_OUTLINE if legend_bin.code == CLASS_ND else "#555555"
        items.append(
            html.Li(
                [
                    make_swatch(legend_bin.color, outline),
                    html.Span(legend_bin.label, className="legend-label"),
                    html.Span(share_text(count, total), className="legend-count"),
                ]
            )
        )
    unit = f"Unité : {meta.unit}" if meta.unit else "Sans unité"
    if meta.kind == "numeric":
        unit += " · plus la couleur est foncée, plus la valeur est élevée"
    provenance = []
    try:
        provenance = list(model.indicators.provenance(indicator))
    except (KeyError, AttributeError, ValueError):
        provenance = []
    # Inputs that are alternatives (Insee children, else the Caf extract): name those used, not the absent ones.
    provenance = [p for p in provenance if p.present] or provenance
    sources = [
        html.Li(
            " · ".join(
                part
                for part in (
                    p.title or p.layer,
                    p.publisher,
                    f"millésime {p.vintage}" if p.vintage else "",
                    p.licence,
                    "données fictives" if p.synthetic else "",
                )
                if part
            )
        )
        for p in provenance
    ]
    scope = model.epci_names.get(epci, "") if epci else "tout le département"
    rule = model.rules.get(indicator, "")
    return html.Div(
        [
            html.H3(meta.label, className="legend-title"),
            html.P(unit, className="legend-unit"),
            html.Ul(items, className="legend-classes", **aria(label="Classes de la carte")),
            html.P(f"Effectifs : {scope} ({plural(total, 'commune')})", className="legend-scope"),
            html.P(f"Règle : {rule}", className="legend-rule") if rule else None,
            html.P(f"Sources : {short_sources(provenance)}", className="legend-sources") if sources else None,
            html.Details([html.Summary("Détail des sources"), html.Ul(sources)]) if sources else None,
        ]
    )


def short_sources(provenance: Sequence) -> str:
    """One line under the classes: who publishes each input and its vintage (« Insee, 2021 »),
    and « données fictives » when one is fictitious; the full titles and licences are one click away."""
    parts = []
    for p in provenance:
        text = ", ".join(part for part in (p.publisher or p.title or p.layer, p.vintage or "") if part)
        if text and text not in parts:
            parts.append(text)
    line = " ; ".join(parts)
    if any(p.synthetic for p in provenance):
        line += " (données fictives)"
    return line


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
        items.append(html.Li([make_symbol_swatch(layer.spec.key), html.Span(label)]))
    for key, label in ZONE_LAYERS.items():
        if key not in chosen or model.layer_reason(key):
            continue
        count = sum(1 for c in model.zones.get(key, ()) if c in mask_codes)
        text = label if key in {"epci", "cibles"} else f"{label} : {count} commune{'s' if count > 1 else ''}"
        items.append(html.Li([make_swatch("transparent", ZONE_COLORS[key], "ring"), html.Span(text)]))
    if not items:
        return html.Div(html.P("Aucune couche affichée.", className="muted"))
    return html.Div([html.H3("Couches affichées"), html.Ul(items, className="legend-classes")])
