"""« Fiche territoire »: one self-contained HTML page (A4 portrait) for an EPCI or a commune, printed to PDF.

Why HTML + inline SVG: the same layout engine as the screen, no map tiles or network at print time, vector output
that stays sharp on paper. The map must read in black and white (meetings print on office printers): classes are
grey steps of clearly different lightness, priority zones are hatched, structures have distinct shapes, and the
legend names every symbol. Everything coming from data is escaped with :func:`html.escape`.

Pure: ``build_fiche_html`` reads the indicators and the bundle and returns a string; rendering is in ``render.py``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.bundle import Bundle
from geodata.crs import LAMBERT93, WGS84
from geodata.numbers import NBSP, format_number, format_value
from geodata.settings import PROJECT_ROOT
from indicators.bonus import BONUS_STATUTS, STATUT_A_CONFIRMER, STATUT_APPLICABLE, STATUT_SI_CTG, priority_status
from indicators.compute import Indicators
from indicators.registry import REGISTRY
from indicators.targets import RANK_CHILDREN, TargetFilter, compute_targets

CSS_FILE = PROJECT_ROOT / "assets" / "fiche.css"
LEVELS = ("epci", "commune")

MAP_W = 1000.0
"""SVG user units of the map (the SVG scales to the page width)."""

SOUS_DOTATION_STEPS = (
    ("P1", "#4a4a4a", "P1 : priorité 1"),
    ("P2", "#7f7f7f", "P2 : priorité 2"),
    ("P3 vigilance", "#b4b4b4", "P3 : vigilance"),
    ("couvert", "#e8e8e8", "couvert"),
)
"""Grey steps 30 % → 90 % lightness: four classes that stay apart on a black-and-white print."""

KEY_FIGURES = (
    "population",
    "pop_moins3",
    "densite_hab_km2",
    "eaje_nb",
    "eaje_places",
    "eaje_places_psu",
    "eaje_places_100_moins3",
    "eaje_places_1000_hab",
    "txcouv_global",
    "txcouv_eaje",
    "alsh_nb",
    "alsh_places",
    "centres_sociaux_nb",
    "evs_nb",
    "france_services_nb",
    "caf_accueils_nb",
    "acces_eaje",
    "acces_eaje_hab",
    "distance_eaje_km",
    "part_pop_loin_eaje",
    "med_niveau_vie",
    "taux_pauvrete",
    "potentiel_financier_hab",
    "qpv",
)


@dataclass(frozen=True)
class StructureKind:
    """A structure type drawn on the map: its layer, label and SVG symbol id."""

    layer: str
    label: str
    symbol: str


STRUCTURES = (
    StructureKind("caf_eaje", "Crèche (EAJE)", "sym-eaje"),
    StructureKind("caf_alsh", "Accueil de loisirs (ALSH)", "sym-alsh"),
    StructureKind("caf_centres_sociaux", "Centre social / EVS", "sym-cs"),
    StructureKind("france_services", "France services", "sym-fs"),
    StructureKind("caf_accueils", "Accueil Caf", "sym-caf"),
)

SYMBOL_DEFS = """
<symbol id="sym-eaje" viewBox="-6 -6 12 12"><circle r="4.6" fill="#fff" stroke="#000" stroke-width="1.6"/>
<circle r="1.5" fill="#000"/></symbol>
<symbol id="sym-alsh" viewBox="-6 -6 12 12"><path d="M0,-5 L5,4 L-5,4 Z" fill="#000" stroke="#fff" stroke-width="0.9"/>
</symbol>
<symbol id="sym-cs" viewBox="-6 -6 12 12"><rect x="-4.2" y="-4.2" width="8.4" height="8.4" fill="#fff" stroke="#000"
stroke-width="1.6"/></symbol>
<symbol id="sym-fs" viewBox="-6 -6 12 12"><path d="M0,-5.4 L5.4,0 L0,5.4 L-5.4,0 Z" fill="#000" stroke="#fff"
stroke-width="0.9"/></symbol>
<symbol id="sym-caf" viewBox="-6 -6 12 12"><path d="M-1.6,-5 h3.2 v3.4 h3.4 v3.2 h-3.4 v3.4 h-3.2 v-3.4 h-3.4 v-3.2
h3.4 Z" fill="#000" stroke="#fff" stroke-width="0.8"/></symbol>
"""

PATTERN_DEFS = """
<pattern id="hatch" patternUnits="userSpaceOnUse" width="9" height="9" patternTransform="rotate(45)">
<rect width="9" height="9" fill="none"/><line x1="0" y1="0" x2="0" y2="9" stroke="#fff" stroke-width="3.2"/>
<line x1="0" y1="0" x2="0" y2="9" stroke="#000" stroke-width="1.3"/></pattern>
<pattern id="qpv-cross" patternUnits="userSpaceOnUse" width="5" height="5">
<path d="M0,0 L5,5 M5,0 L0,5" stroke="#000" stroke-width="0.9"/></pattern>
<pattern id="nd-dots" patternUnits="userSpaceOnUse" width="7" height="7">
<rect width="7" height="7" fill="#fff"/><circle cx="3.5" cy="3.5" r="0.9" fill="#555"/></pattern>
"""


def e(value: Any) -> str:
    """Escaped text of any data value (names, motifs, sources)."""
    return html.escape("" if value is None else str(value), quote=True)


def load_css(path: Path = CSS_FILE) -> str:
    """The fiche stylesheet, inlined in the HTML so the file is self-contained."""
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------------------
# Territory
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Territory:
    """What a fiche is about: its level, code, name, member communes, and the communes shown as context."""

    level: str
    code: str
    nom: str
    communes: tuple[str, ...]
    epci_code: str
    epci_nom: str
    departement: str
    departement_nom: str


def territory(bundle: Bundle, level: str, code: str) -> Territory:
    """Resolve ``level``/``code`` against the commune base.

    Raises:
        ValueError: unknown level or code (message in French).
    """
    if level not in LEVELS:
        raise ValueError(f"niveau « {level} » inconnu (attendu : commune ou epci)")
    communes = bundle.communes
    codes = communes["code"].astype(str)
    dep = bundle.manifest.departement or str(communes["departement"].iloc[0])
    dep_nom = bundle.manifest.departement_nom or dep
    if level == "commune":
        row = communes.loc[codes == str(code)]
        if row.empty:
            raise ValueError(f"commune « {code} » absente du bundle")
        r = row.iloc[0]
        return Territory(
            "commune", str(code), str(r["nom"]), (str(code),), str(r["epci_code"] or ""), str(r["epci_nom"] or ""),
            str(r["departement"]), dep_nom,
        )  # fmt: skip
    members = communes.loc[communes["epci_code"].astype(str) == str(code)]
    if members.empty:
        raise ValueError(f"EPCI « {code} » absent du bundle")
    nom = str(members["epci_nom"].iloc[0])
    return Territory(
        "epci", str(code), nom, tuple(members["code"].astype(str)), str(code), nom, str(members["departement"].iloc[0]),
        dep_nom,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------------------
# Map
# --------------------------------------------------------------------------------------------------------------


def _path(geom: Any, tx: Any) -> str:
    """SVG path data of a (multi)polygon, coordinates through ``tx``."""
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in (poly.exterior, *poly.interiors):
            xs, ys = tx(np.asarray(ring.coords))
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
            parts.append(f"M{pts}Z")
    return "".join(parts)


def _scale_bar_km(width_m: float) -> float:
    """A round length near a fifth of the map width."""
    target = width_m / 5000.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100):
        if step >= target:
            return float(step)
    return 100.0


def priority_communes(ind: Indicators) -> pd.Series:
    """Per commune: in a priority zoning of the bonus territoire (True), in none (False), or unknown (None): the rule
    of :func:`indicators.bonus.priority_status`, so the fiche hatches exactly the communes the bonus counts."""
    return priority_status(ind.commune.values, ind.commune.states, ind.params)


def build_map_svg(ind: Indicators, bundle: Bundle, terr: Territory) -> str:
    """Inline SVG map: context communes filled by their under-served level (grey steps), priority communes hatched,
    QPV perimeters cross-hatched, the rest of the département light grey, structures as distinct symbols."""
    communes = bundle.communes.to_crs(LAMBERT93)
    communes = communes.assign(code=communes["code"].astype(str))
    if terr.level == "commune" and terr.epci_code:
        context = communes.loc[communes["epci_code"].astype(str) == terr.epci_code, "code"]
    else:
        context = pd.Series(terr.communes)
    context_set = set(context)
    focus = communes.loc[communes["code"].isin(terr.communes)]
    # frame the filled communes (the EPCI for a commune fiche: a commune alone gives no context)
    minx, miny, maxx, maxy = communes.loc[communes["code"].isin(context_set)].total_bounds
    pad_x, pad_y = (maxx - minx) * 0.04, (maxy - miny) * 0.04
    minx, maxx, miny, maxy = minx - pad_x, maxx + pad_x, miny - pad_y, maxy + pad_y
    # the map keeps the page width; its height follows the territory's shape within 0.6-1.05 of the width
    map_h = min(max(MAP_W * (maxy - miny) / (maxx - minx), 0.6 * MAP_W), 1.05 * MAP_W)
    scale = min(MAP_W / (maxx - minx), map_h / (maxy - miny))
    off_x = (MAP_W - (maxx - minx) * scale) / 2
    off_y = (map_h - (maxy - miny) * scale) / 2
    minx, maxx = minx - off_x / scale, maxx + off_x / scale
    miny, maxy = miny - off_y / scale, maxy + off_y / scale
    off_x = off_y = 0.0

    def tx(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return off_x + (coords[:, 0] - minx) * scale, off_y + (maxy - coords[:, 1]) * scale

    tolerance = 1.0 / scale  # one SVG unit: finer detail is invisible
    view = communes.cx[minx:maxx, miny:maxy]
    levels = ind.commune.values["sous_dotation"].astype(object)
    fills = {key: color for key, color, _ in SOUS_DOTATION_STEPS}
    priority = priority_communes(ind)
    out = [
        f'<svg class="map" viewBox="0 0 {MAP_W:.0f} {map_h:.0f}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="Carte de {e(terr.nom)}">',
        f"<defs>{PATTERN_DEFS}{SYMBOL_DEFS}</defs>",
        f'<rect width="{MAP_W:.0f}" height="{map_h:.0f}" fill="#fff"/>',
    ]
    others, filled, hatched = [], [], []
    for code, geom in zip(view["code"], view.geometry.simplify(tolerance), strict=True):
        d = _path(geom, tx)
        if not d:
            continue
        if code in context_set:
            level = levels.get(code)
            fill = fills.get(level, "url(#nd-dots)") if isinstance(level, str) else "url(#nd-dots)"
            filled.append(f'<path d="{d}" fill="{fill}" stroke="#fff" stroke-width="0.8"/>')
            if priority.get(code, False) is True:
                hatched.append(d)
        else:
            others.append(f'<path d="{d}" fill="#f4f4f4" stroke="#c8c8c8" stroke-width="0.6"/>')
    out += others + filled
    if hatched:  # one path for all priority communes: one pattern object in the PDF, not one per commune
        out.append(f'<path d="{"".join(hatched)}" fill="url(#hatch)" stroke="none"/>')
    # QPV perimeters (2024 when known, else the 2015 contours)
    qpv = _qpv_polygons(bundle)
    if qpv is not None:
        for geom in qpv.to_crs(LAMBERT93).cx[minx:maxx, miny:maxy].geometry:
            d = _path(geom, tx)
            if d:
                out.append(f'<path d="{d}" fill="url(#qpv-cross)" stroke="#000" stroke-width="0.9"/>')
    # outlines: context communes thin, territory thick
    for code, geom in zip(view["code"], view.geometry.simplify(tolerance), strict=True):
        if code in context_set:
            out.append(f'<path d="{_path(geom, tx)}" fill="none" stroke="#222" stroke-width="0.5"/>')
    outline = focus.dissolve().geometry.iloc[0].simplify(tolerance)
    out.append(f'<path d="{_path(outline, tx)}" fill="none" stroke="#fff" stroke-width="5"/>')
    out.append(f'<path d="{_path(outline, tx)}" fill="none" stroke="#000" stroke-width="2.4"/>')
    # structures
    for kind in STRUCTURES:
        layer = bundle.layer(kind.layer)
        if layer is None or not len(layer) or "lon" not in layer:
            continue
        pts = gpd.GeoSeries(gpd.points_from_xy(layer["lon"], layer["lat"]), crs=WGS84).to_crs(LAMBERT93)
        xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
        inside = (xy[:, 0] >= minx) & (xy[:, 0] <= maxx) & (xy[:, 1] >= miny) & (xy[:, 1] <= maxy)
        if not inside.any():
            continue
        sx, sy = tx(xy[inside])
        size = 22.0
        out += [
            f'<use href="#{kind.symbol}" x="{x - size / 2:.1f}" y="{y - size / 2:.1f}" width="{size}" height="{size}"/>'
            for x, y in zip(sx, sy, strict=True)
        ]
    # labels: the largest communes of the context (and always the focus commune)
    labelled = view.loc[view["code"].isin(context_set)].sort_values("population", ascending=False)
    keep = list(labelled["code"].head(14))
    for code in terr.communes[:1]:
        if code not in keep:
            keep.append(code)
    for _, row in labelled.loc[labelled["code"].isin(keep)].iterrows():
        pt = row.geometry.representative_point()
        (x,), (y,) = tx(np.array([[pt.x, pt.y]]))
        weight = "700" if row["code"] in terr.communes else "400"
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" class="label" font-weight="{weight}" text-anchor="middle">'
            f"{e(row['nom'])}</text>"
        )
    # scale bar and north arrow
    km = _scale_bar_km(maxx - minx)
    bar = km * 1000 * scale
    out.append(
        f'<g transform="translate(24,{map_h - 26:.0f})"><rect x="-8" y="-24" width="{bar + 16:.1f}" height="38" '
        f'fill="#fff" fill-opacity="0.85"/><rect width="{bar / 2:.1f}" height="6" fill="#000"/>'
        f'<rect x="{bar / 2:.1f}" width="{bar / 2:.1f}" height="6" fill="#fff" stroke="#000"/>'
        f'<text x="0" y="-6" class="scale">0</text><text x="{bar:.1f}" y="-6" class="scale" text-anchor="end">'
        f"{format_number(km, 0)}{NBSP}km</text></g>"
    )
    out.append(
        f'<g transform="translate({MAP_W - 30:.0f},34)"><path d="M0,-22 L8,4 L0,-2 L-8,4 Z" fill="#000"/>'
        '<text y="18" class="scale" text-anchor="middle" font-weight="700">N</text></g>'
    )
    out.append("</svg>")
    return "".join(out)


def _qpv_polygons(bundle: Bundle) -> gpd.GeoDataFrame | None:
    for layer_id in ("qpv2024", "qpv2015"):
        layer = bundle.layer(layer_id)
        if isinstance(layer, gpd.GeoDataFrame) and len(layer):
            has = layer.geometry.notna() & ~layer.geometry.is_empty
            if has.any():
                return layer.loc[has]
    return None


def _qpv_source(bundle: Bundle) -> str:
    for layer_id, label in (("qpv2024", "QPV 2024"), ("qpv2015", "contours QPV 2015")):
        layer = bundle.layer(layer_id)
        if (
            isinstance(layer, gpd.GeoDataFrame)
            and len(layer)
            and (layer.geometry.notna() & ~layer.geometry.is_empty).any()
        ):
            return label
    return ""


def build_legend(bundle: Bundle, ind: Indicators, terr: Territory) -> str:
    """HTML legend of the map: every grey step, pattern and symbol, in words."""

    def swatch(fill: str, extra: str = "") -> str:
        return (
            # patterns and symbols are defined once, in the map's <defs> (ids are document-wide)
            f'<svg class="sw" viewBox="0 0 22 14"><rect x="0.5" y="0.5" width="21" height="13" fill="{fill}" '
            f'stroke="#333" stroke-width="0.8"/>{extra}</svg>'
        )

    rows = [f"<li>{swatch(color)}{e(label)}</li>" for _, color, label in SOUS_DOTATION_STEPS]
    rows.append(f"<li>{swatch('url(#nd-dots)')}non disponible</li>")
    rural = {"zrr2017": "ZRR 2017", "frr2025": "FRR", "les_deux": "ZRR 2017 ou FRR"}[ind.params.zonage_rural]
    overlay = '<rect x="0.5" y="0.5" width="21" height="13" fill="url(#hatch)"/>'
    rows.append(f"<li>{swatch('#b4b4b4', overlay)}zone prioritaire (QPV ou {e(rural)})</li>")
    unknown = int(priority_communes(ind).reindex(list(terr.communes)).isna().sum())
    if unknown:
        rows.append(f"<li>{swatch('#b4b4b4')}zone prioritaire inconnue (zonage absent) : {unknown} commune(s)</li>")
    qpv_label = _qpv_source(bundle)
    if qpv_label:
        rows.append(f"<li>{swatch('url(#qpv-cross)')}quartier prioritaire ({e(qpv_label)})</li>")
    rows.append(f"<li>{swatch('#f4f4f4')}hors territoire</li>")
    symbols = []
    for kind in STRUCTURES:
        if bundle.layer(kind.layer) is not None:
            symbols.append(
                f'<li><svg class="sw" viewBox="-7 -7 14 14">'
                f'<use href="#{kind.symbol}" x="-6" y="-6" width="12" height="12"/></svg>{e(kind.label)}</li>'
            )
    context = (
        f"communes de l'EPCI {e(terr.epci_nom)} ; {e(terr.nom)} cernée d'un trait épais"
        if terr.level == "commune" and terr.epci_code
        else "communes du territoire, contour épais"
    )
    return (
        '<div class="legend"><p class="legend-title">Niveau de sous-dotation petite enfance</p>'
        f'<ul>{"".join(rows)}</ul><p class="legend-title">Structures</p><ul>{"".join(symbols)}</ul>'
        f'<p class="legend-note">Carte : {context}. Fond : limites communales.</p></div>'
    )


# --------------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------------


def _cell(ind: Indicators, level: str, key: str, code: str) -> str:
    res = ind.level(level)
    if key not in res.values.columns or code not in res.values.index:
        return '<td class="num nd">non disponible</td>'
    spec = REGISTRY[key]
    state = str(res.states.at[code, key])
    value = res.values.at[code, key]
    text = format_value(
        float(value) if state == "valeur" else None,
        state,
        spec.decimals,
        spec.unit if spec.unit in {"%", "km", "€"} else "",
    )
    note = str(res.notes.at[code, key] or "")
    cls = "num" if state == "valeur" else "num nd"
    title = f' title="{e(note)}"' if note else ""
    mark = '<sup class="n">*</sup>' if note and state == "valeur" else ""
    return f'<td class="{cls}"{title}>{e(text)}{mark}</td>'


def build_key_figures(ind: Indicators, terr: Territory) -> str:
    """Key figures of the territory against its EPCI (for a commune), the département and France."""
    cols: list[tuple[str, str, str]] = [(terr.level, terr.code, terr.nom if terr.level == "commune" else "EPCI")]
    if terr.level == "commune" and terr.epci_code:
        cols.append(("epci", terr.epci_code, "EPCI"))
    cols.append(("departement", terr.departement, "Département"))
    keys = [k for k in KEY_FIGURES if k in ind.available and k in REGISTRY]
    # France only where an official national figure exists (with its source and year, in the notes); the column is
    # dropped when there is none, and its cell left empty on the other rows.
    national = {k for k in keys if k in ind.france.states.columns and ind.france.states.at["FR", k] == "valeur"}
    if national:
        cols.append(("france", "FR", "France"))
    head = "".join(f'<th class="num">{e(name)}</th>' for _, _, name in cols)
    rows, notes = [], []
    for key in keys:
        spec = REGISTRY[key]
        unit = f" ({e(spec.unit)})" if spec.unit and spec.unit not in {"%", "km", "€"} else ""
        cells = "".join(
            _cell(ind, level, key, code) if level != "france" or key in national else '<td class="num"></td>'
            for level, code, _ in cols
        )
        rows.append(f"<tr><th>{e(spec.label)}{unit}</th>{cells}</tr>")
        for level, code, name in cols:
            res = ind.level(level)
            if key in res.notes.columns and code in res.notes.index:
                note = str(res.notes.at[code, key] or "")
                if note and str(res.states.at[code, key]) == "valeur":
                    notes.append(f"{spec.label} ({name}) : {note}")
    foot = ""
    if notes:
        items = "".join(f"<li>{e(n)}</li>" for n in list(dict.fromkeys(notes))[:8])
        foot = f'<ul class="notes"><li class="notes-title">* Notes :</li>{items}</ul>'
    return (
        f'<table class="figures"><thead><tr><th>Indicateur</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{foot}"
    )


def _structures(bundle: Bundle, terr: Territory) -> list[tuple[str, str, str, str]]:
    """(type, name, commune, capacity) of every structure located in the territory."""
    names = bundle.communes.set_index(bundle.communes["code"].astype(str))["nom"]
    members = set(terr.communes)
    rows: list[tuple[str, str, str, str]] = []
    for kind in STRUCTURES:
        layer = bundle.layer(kind.layer)
        if layer is None or not len(layer):
            continue
        sel = layer.loc[layer["code_commune"].astype(str).isin(members)]
        for _, r in sel.iterrows():
            label = kind.label
            capacity = ""
            if kind.layer == "caf_eaje":
                capacity = f"{format_number(r['places'], 0)} places"
                label = f"Crèche — {r.get('type_accueil', '')}" + ("" if bool(r.get("psu", False)) else " (hors PSU)")
            elif kind.layer == "caf_alsh":
                caps = [r.get(c) for c in ("places_periscolaire", "places_mercredi", "places_vacances")]
                caps = [float(c) for c in caps if c is not None and c == c]
                capacity = f"{format_number(max(caps), 0)} places" if caps else "capacité non renseignée"
            elif kind.layer == "caf_centres_sociaux":
                label = str(r.get("type_structure", "") or kind.label).capitalize()
            elif kind.layer == "caf_accueils":
                label = f"Accueil Caf — {r.get('type_site', '')}"
            rows.append((label, str(r["nom"]), str(names.get(str(r["code_commune"]), r["code_commune"])), capacity))
    return rows


def build_structures(bundle: Bundle, terr: Territory) -> str:
    """Table of the structures of the territory (names escaped)."""
    rows = _structures(bundle, terr)
    if not rows:
        return '<p class="muted">Aucune structure des couches présentes dans ce territoire.</p>'
    body = "".join(
        f'<tr><td>{e(kind)}</td><td>{e(nom)}</td><td>{e(commune)}</td><td class="num">{e(cap)}</td></tr>'
        for kind, nom, commune, cap in rows
    )
    return (
        '<table class="structures"><thead><tr><th>Type</th><th>Nom</th><th>Commune</th><th class="num">Capacité</th>'
        f"</tr></thead><tbody>{body}</tbody></table>"
    )


def _zonage_lines(ind: Indicators, bundle: Bundle, terr: Territory) -> list[str]:
    v = ind.commune.values.reindex(list(terr.communes))
    s = ind.commune.states.reindex(list(terr.communes))
    lines = []
    qpv = bundle.layer("qpv2024")
    if qpv is not None:
        sel = qpv.loc[qpv["code_commune"].astype(str).isin(terr.communes)]
        if len(sel):
            names = ", ".join(sorted(set(sel["nom_qp"].astype(str))))
            lines.append(f"<b>{len(sel)} quartier(s) prioritaire(s) (QPV 2024)</b> : {e(names)}")
        else:
            lines.append("Aucun quartier prioritaire (QPV 2024).")
    n = len(terr.communes)
    if (s["zrr_classee"] == "valeur").any():
        zrr = int((v["zrr_classee"].astype(object) == "classée").sum())
        lines.append(f"ZRR 2017 : {zrr} commune(s) classée(s) sur {n}." if n > 1 else
                     f"ZRR 2017 : {'classée' if zrr else 'non classée'}.")  # fmt: skip
    if (s["frr_classement"] == "valeur").any():
        counts = v["frr_classement"].astype(object).value_counts()
        if n > 1:
            text = " ; ".join(f"{e(k)} : {int(c)}" for k, c in counts.items())
            lines.append(f"France Ruralités Revitalisation (2025) : {text}.")
        else:
            lines.append(f"France Ruralités Revitalisation (2025) : {e(v['frr_classement'].iloc[0])}.")
    if "montagne" in v and (s["montagne"] == "valeur").any():
        mountain = int((v["montagne"].astype(object).fillna("").astype(str) != "").sum())
        lines.append(f"Zone de montagne : {mountain} commune(s) sur {n}." if n > 1 else
                     f"Zone de montagne : {'oui' if mountain else 'non'}.")  # fmt: skip
    prog = bundle.layer("anct_programmes")
    if prog is not None:
        sel = prog.loc[prog["code_commune"].astype(str).isin(terr.communes)]
        if len(sel):
            items = sorted({f"{r['programme']} ({r['lib_territoire']})" for _, r in sel.iterrows()})
            lines.append("Programmes ANCT : " + e(", ".join(items)) + ".")
    return lines


def _bonus_block(ind: Indicators, terr: Territory) -> str:
    """The bonus in the words of every view: one sentence for a commune, communes per status for an EPCI."""
    bonus = ind.bonus().reindex(list(terr.communes))
    if terr.level == "commune":
        r = bonus.iloc[0]
        missing = f'<p class="motif">Ce qui manque : {e(r["manque"])}</p>' if r["manque"] else ""
        return f'<p class="big">{e(r["resume"])}</p>{missing}<p class="motif">{e(r["motif"])}</p>'
    items = ""
    for statut in BONUS_STATUTS:
        rows = bonus[bonus["statut"] == statut]
        if not len(rows):
            continue
        amounts = rows["montant"].dropna()
        if statut in (STATUT_APPLICABLE, STATUT_SI_CTG) and len(amounts):
            low, high = e(format_number(amounts.min(), 0)), e(format_number(amounts.max(), 0))
            span = f" — {low}{NBSP}€" if low == high else f" — de {low} à {high}{NBSP}€"
            span += " par place nouvelle et par an"
        elif statut == STATUT_A_CONFIRMER:
            span = f" — {e(format_number(rows['montant_min'].min(), 0))} à "
            span += f"{e(format_number(rows['montant_max'].max(), 0))}{NBSP}€ selon des données manquantes"
        else:
            span = " — 0 € (CTG non signée)"
        items += f"<li>{e(statut)} : {len(rows)} commune(s){span}</li>"
    return f'<ul class="compact">{items}</ul>'


def _underserved_block(ind: Indicators, terr: Territory) -> str:
    v = ind.commune.values.reindex(list(terr.communes))
    if terr.level == "commune":
        level = v["sous_dotation"].iloc[0]
        motif = v["sous_dotation_motif"].iloc[0] or ind.commune.notes.at[terr.code, "sous_dotation"]
        shown = level if isinstance(level, str) else "non disponible"
        return f'<p class="big">{e(shown)}</p><p class="motif">{e(motif or "")}</p>'
    counts = v["sous_dotation"].astype(object).fillna("non disponible").value_counts()
    order = [k for k, _, _ in SOUS_DOTATION_STEPS] + ["non disponible"]
    items = "".join(f"<li>{e(k)} : {int(counts[k])} commune(s)</li>" for k in order if k in counts)
    return f'<ul class="compact">{items}</ul>'


def build_communes_table(ind: Indicators, terr: Territory) -> str:
    """EPCI fiche: one row per commune (population, EAJE places, under-served level, bonus tranche and amount)."""
    v = ind.commune.values.reindex(list(terr.communes))
    st = ind.commune.states.reindex(list(terr.communes))
    bonus = ind.bonus().reindex(list(terr.communes))
    order = v.sort_values("population", ascending=False).index
    rows = []
    for code in order:
        places = format_value(
            v.at[code, "eaje_places"] if st.at[code, "eaje_places"] == "valeur" else None, st.at[code, "eaje_places"], 0
        )
        level = v.at[code, "sous_dotation"]
        bonus_text = str(bonus.at[code, "resume"])
        rows.append(
            f"<tr><td>{e(ind.names['commune'].get(code, code))}</td>"
            f'<td class="num">{e(format_value(v.at[code, "population"], st.at[code, "population"], 0))}</td>'
            f'<td class="num">{e(places)}</td><td>{e(level if isinstance(level, str) else "non disponible")}</td>'
            f"<td>{e(bonus_text)}</td></tr>"
        )
    return (
        '<table class="communes"><thead><tr><th>Commune</th>'
        f'<th class="num">Population ({e(ind.population_label)})</th>'
        '<th class="num">Places EAJE</th><th>Sous-dotation</th><th>Bonus territoire par place nouvelle</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )


def build_targets_block(ind: Indicators, terr: Territory, limit: int = 10) -> str:
    """EPCI fiche: the first communes à cibler of the territory (default filters of the parameters)."""
    filt = TargetFilter.default(ind, terr.code)
    targets = compute_targets(ind, filt)
    if targets.reason:
        return f'<p class="muted">Liste non disponible : {e(targets.reason)}.</p>'
    table = targets.table.head(limit)
    if not len(table):
        return '<p class="muted">Aucune commune ne réunit les critères retenus.</p>'
    children = targets.ranked_by == RANK_CHILDREN
    head = "Enfants sans place accessible" if children else "Places à créer"
    rows = "".join(
        f'<tr><td class="num">{int(r.rang)}</td><td>{e(r.commune)}</td><td>{e(r.niveau)}</td>'
        f'<td class="num">{e(format_number(r.acces, 1))}</td>'
        f'<td class="num">{e(format_number(r.enfants_sans_place if children else r.places_a_creer, 0))}</td>'
        f"<td>{e(r.bonus)}</td></tr>"
        for r in table.itertuples(index=False)
    )
    levels = ", ".join(filt.niveaux)
    return (
        f'<p class="muted">Niveaux {e(levels)}, accessibilité EAJE sous le niveau du département, classées par '
        f"{e(targets.ranked_by)} ({len(targets.table)} commune(s) ; {limit} premières).</p>"
        '<table class="communes"><thead><tr><th class="num">Rang</th><th>Commune</th><th>Niveau</th>'
        f'<th class="num">Accessibilité EAJE</th><th class="num">{e(head)}</th><th>Bonus territoire</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _layers_used(ind: Indicators, bundle: Bundle) -> list[str]:
    used: list[str] = []
    keys = [k for k in KEY_FIGURES if k in REGISTRY] + [
        "sous_dotation",
        "bonus_statut",
        "zrr_classee",
        "frr_classement",
    ]
    for key in keys:
        for layer in REGISTRY[key].inputs:
            if layer not in used:
                used.append(layer)
    for layer in [k.layer for k in STRUCTURES] + ["qpv2024", "qpv2015", "anct_programmes", "caf_ctg"]:
        if layer not in used:
            used.append(layer)
    return used


def build_sources(ind: Indicators, bundle: Bundle) -> str:
    """Sources and vintages of every layer the fiche uses (manifest), absent ones said so."""
    manifest = bundle.manifest
    rows = []
    base = manifest.commune_base
    if base.title:
        rows.append((base.title, base.publisher, base.vintage, base.licence, False))
    missing = []
    for layer in _layers_used(ind, bundle):
        info = manifest.layer(layer)
        if info is None:
            if layer not in {"communes"}:
                missing.append(layer)
            continue
        rows.append((info.title or layer, info.publisher, info.vintage, info.licence, info.synthetic))
    flag = ' <span class="flag">fictif</span>'
    body = "".join(
        f"<tr><td>{e(t)}{flag if syn else ''}</td><td>{e(p)}</td><td>{e(v)}</td><td>{e(lic)}</td></tr>"
        for t, p, v, lic, syn in rows
    )
    titles = {m.layer: m.title for m in manifest.missing}
    absent = ""
    if missing:
        absent = (
            '<p class="muted">Couches absentes du bundle (indicateurs correspondants « non disponible ») : '
            + e(", ".join(titles.get(m) or m for m in missing))
            + ".</p>"
        )
    return (
        '<table class="sources"><thead><tr><th>Couche</th><th>Producteur</th><th>Millésime</th><th>Licence</th>'
        f"</tr></thead><tbody>{body}</tbody></table>{absent}"
    )


def _date(text: str) -> str:
    try:
        return datetime.fromisoformat(str(text)).strftime("%d/%m/%Y")
    except ValueError:
        return str(text)


def build_fiche_html(
    ind: Indicators,
    bundle: Bundle,
    level: str,
    code: str,
    *,
    exported_at: datetime | None = None,
    css: str | None = None,
) -> str:
    """The complete, self-contained HTML of the fiche of ``level`` (``epci`` or ``commune``) ``code``.

    Raises:
        ValueError: unknown level or code.
    """
    terr = territory(bundle, level, str(code))
    exported = (exported_at or datetime.now()).strftime("%d/%m/%Y")
    built = _date(bundle.manifest.built_at) or "inconnue"
    css = load_css() if css is None else css
    level_label = "Commune" if terr.level == "commune" else "Intercommunalité (EPCI)"
    subtitle = f"{level_label} — {terr.departement_nom} ({terr.departement})"
    if terr.level == "commune" and terr.epci_nom:
        subtitle += f" — {terr.epci_nom}"
    banner = (
        '<div class="fictif" role="alert">Données fictives — document de démonstration, à ne pas diffuser '
        "comme réel</div>"
        if ind.synthetic
        else ""
    )
    p = ind.params
    pop = ind.level(terr.level).values.at[terr.code, "population"]
    lead = (
        f"{format_number(pop, 0)} habitants ({ind.population_label})"
        if pd.notna(pop)
        else f"population non disponible ({ind.level(terr.level).notes.at[terr.code, 'population'] or 'absente'})"
    )
    if terr.level == "epci":
        lead += f" · {len(terr.communes)} communes"
    zonages = "".join(f"<li>{line}</li>" for line in _zonage_lines(ind, bundle, terr))
    communes_block = (
        f'<section class="break-before"><h2>Communes du territoire</h2>{build_communes_table(ind, terr)}</section>'
        f"<section><h2>Communes à cibler</h2>{build_targets_block(ind, terr)}</section>"
        if terr.level == "epci"
        else ""
    )
    page_title = f"Fiche territoire — {terr.nom}"
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{e(page_title)}</title>
<style>{css}
@page {{ @bottom-left {{ content: "{_css_string(page_title)} · ctg-carto"; }} }}</style></head>
<body>
<header class="head">
  <p class="kicker">Fiche territoire · Convention territoriale globale · Caf</p>
  <h1>{e(terr.nom)}</h1>
  <p class="subtitle">{e(subtitle)}</p>
  <p class="lead">{e(lead)}</p>
  <p class="dates">Données du {e(built)} · export du {e(exported)} · paramètres {e(p.version)}</p>
</header>
{banner}
<section class="map-block">
  <h2>Carte : sous-dotation, zones prioritaires et structures</h2>
  <div class="map-row"><figure class="map-figure">{build_map_svg(ind, bundle, terr)}</figure>
  {build_legend(bundle, ind, terr)}</div>
</section>
<section class="diag">
  <div class="card"><h2>Sous-dotation petite enfance</h2>{_underserved_block(ind, terr)}</div>
  <div class="card"><h2>Bonus territoire CTG (places nouvelles)</h2>{_bonus_block(ind, terr)}</div>
</section>
<section><h2>Chiffres clés</h2>{build_key_figures(ind, terr)}</section>
<section><h2>Zonages</h2><ul class="compact">{zonages}</ul></section>
{communes_block}
<section><h2>Structures du territoire</h2>{build_structures(bundle, terr)}</section>
<section class="sources-block"><h2>Sources et millésimes</h2>{build_sources(ind, bundle)}
<p class="muted">Paramètres du diagnostic : version {e(p.version)} ; zonage rural prioritaire {e(p.zonage_rural)} ;
barème du bonus territoire {e(p.bareme.annee)} ({e(p.bareme.source)}), {e(format_number(p.bareme.montant_min, 0))} à
{e(format_number(p.bareme.montant_max, 0))}{NBSP}€ par place ;
taux de couverture France {e(format_number(p.tx_global_france))}{NBSP}%
({e(p.tx_france_source)}). Sous-dotation : {e(ind.rules.get("sous_dotation", ""))}.
{e(_access_rule(ind))} Distances à vol d'oiseau depuis la mairie.</p>
</section>
</body></html>"""


def _access_rule(ind: Indicators) -> str:
    """The accessibility method with its parameters (one sentence), or nothing without EAJE extract."""
    acc = ind.access.get("eaje")
    return f"Accessibilité : {ind.rules.get(acc.indicator, '')}." if acc is not None else ""


def _css_string(text: str) -> str:
    """Text safe inside a CSS double-quoted string placed in a <style> element."""
    cleaned = "".join(ch for ch in text if ch.isprintable())
    return cleaned.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace(">", "\\3e ")


def epci_codes(bundle: Bundle) -> list[tuple[str, str]]:
    """(code, name) of every EPCI of the bundle, by name: the ``--all-epci`` batch order."""
    c = bundle.communes
    pairs = c.loc[c["epci_code"].astype(str) != "", ["epci_code", "epci_nom"]].drop_duplicates("epci_code")
    return sorted(((str(a), str(b)) for a, b in pairs.itertuples(index=False)), key=lambda t: t[1])


def slug(text: str) -> str:
    """File-name-safe ASCII slug of a territory name."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in ascii_text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:60] or "territoire"


__all__ = [
    "build_fiche_html",
    "build_map_svg",
    "epci_codes",
    "load_css",
    "priority_communes",
    "slug",
    "territory",
]
