"""Quartiers prioritaires de la politique de la ville (QPV), generations 2015 and 2024.

- ``qpv2015`` (polygons, ANCT/SIG Ville outlines): ``code_qp``, ``nom_qp``, ``code_commune``, ``population`` (float,
  ``pop_mun`` of the INSEE QPV indicators file when ``qpv2015_indicateurs*.csv`` sits beside the outlines, else NaN),
  geometry.
- ``qpv2024``: ``code_qp``, ``nom_qp``, ``code_commune``, ``perimetre`` (bool), geometry — polygons from the national
  ANCT GeoJSON (``QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson``), or a plain list (``insee_com, lib_com,
  code_qp, lib_qp``) with no geometry when only the list is held.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.crs import WGS84
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.importers._common import (
    check_in_territory,
    check_unique,
    cut_departement,
    normalise_code,
    read_geojson,
    select,
)
from geodata.readers import LINE, check_codes, read_table, to_number

COLUMNS_2015 = ("code_qp", "nom_qp", "code_commune", "population", "geometry")
COLUMNS_2024 = ("code_qp", "nom_qp", "code_commune", "perimetre", "geometry")
INDICATORS_GLOB = "qpv2015_indicateurs*.csv"
_CODE_QP = re.compile(r"^Q[PN]\d[\dAB]\d{3,4}[A-Z]?$")


def _check_code_qp(df: pd.DataFrame, file: str) -> None:
    problems = [
        Problem(
            file,
            f"code QPV « {row['code_qp']} » mal formé (attendu QP066001 ou QN06601M)",
            row=int(row[LINE]),
            column="code_qp",
        )
        for _, row in df[~df["code_qp"].str.match(_CODE_QP)].head(50).iterrows()
    ]
    if problems:
        raise DataError(problems)
    check_unique(df, "code_qp", file)


def import_qpv2015(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the 2015 QPV outlines and, when present beside them, the INSEE population of each QPV.

    Raises:
        DataError: bad GeoJSON (CRS, geometry), unknown commune code, repeated ``code_qp``, bad ``pop_mun``.
    """
    file = path.name
    features = read_geojson(path, required=("code_qp", "nom_qp", "code_commune"), kind="polygon")
    gdf = cut_departement(features.table, "code_commune", ctx, file)
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=WGS84)
    codes = check_codes(gdf, "code_commune", file, ctx.commune_codes, unique=False, departement=ctx.departement)
    _check_code_qp(gdf, file)
    check_in_territory(gdf, file, ctx, [f"QPV {c}" for c in gdf["code_qp"]])
    notes = list(features.notes)
    inputs = [path]
    population = pd.Series(np.nan, index=gdf.index)
    indicators = sorted(path.parent.glob(INDICATORS_GLOB))
    if indicators:
        ind_path = indicators[-1]
        ind = read_table(ind_path, ["code_qp", "pop_mun"])
        check_unique(ind, "code_qp", ind_path.name)
        pop, _ = to_number(ind, "pop_mun", ind_path.name, minimum=0)
        by_code = dict(zip(ind["code_qp"], pop, strict=True))
        population = gdf["code_qp"].map(by_code).astype(float)
        inputs.append(ind_path)
        without = gdf.loc[population.isna(), "code_qp"].tolist()
        notes.append(f"population municipale des QPV : {ind_path.name}")
        if without:
            notes.append(f"population inconnue pour {len(without)} QPV : {', '.join(without)}")
    else:
        notes.append(f"population des QPV non disponible (fichier {INDICATORS_GLOB} absent)")
    gdf = gdf.assign(code_commune=codes.to_numpy(), population=population.to_numpy())
    return LayerResult("qpv2015", select(gdf, COLUMNS_2015), "qpv2015", inputs, notes=notes)


def import_qpv2024_perimetres(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the official national QPV 2024 perimeters (ANCT GeoJSON), cut on ``insee_dep``.

    Raises:
        DataError: bad GeoJSON, inconsistent ``insee_dep``/``insee_com``, unknown commune, repeated ``code_qp``.
    """
    file = path.name
    features = read_geojson(path, required=("code_qp", "lib_qp", "insee_com", "insee_dep"), kind="polygon")
    table = features.table
    notes = list(features.notes)
    # A QPV spread over several communes lists them all; it is attached to the first one (its main commune).
    several = table["insee_com"].str.contains(r"[,;|]", regex=True)
    if several.any():
        notes.append(f"{int(several.sum())} QPV sur plusieurs communes : rattachés à la première commune citée")
        table = table.assign(insee_com=table["insee_com"].str.split(r"\s*[,;|]\s*", regex=True).str[0])
    gdf = cut_departement(table, "insee_com", ctx, file, dep_column="insee_dep")
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=WGS84)
    codes = check_codes(gdf, "insee_com", file, ctx.commune_codes, unique=False, departement=ctx.departement)
    _check_code_qp(gdf, file)
    check_in_territory(gdf, file, ctx, [f"QPV {c}" for c in gdf["code_qp"]])
    gdf = gdf.assign(nom_qp=gdf["lib_qp"].to_numpy(), code_commune=codes.to_numpy(), perimetre=True)
    notes.append(f"{len(gdf)} QPV 2024 avec leur périmètre officiel")
    return LayerResult("qpv2024", select(gdf, COLUMNS_2024), "qpv2024_perimetres", [path], notes=notes)


def import_qpv2024_liste(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the QPV 2024 list (codes and communes, no perimeter): the fallback when the polygons are not held.

    Raises:
        DataError: missing column, unknown commune code, repeated or malformed ``code_qp``.
    """
    file = path.name
    warnings: list[Problem] = []
    df = read_table(path, ["insee_com", "code_qp", "lib_qp"], optional=["lib_com"], warnings=warnings)
    df = df.assign(insee_com=df["insee_com"].map(normalise_code))
    df = cut_departement(df, "insee_com", ctx, file)
    codes = check_codes(df, "insee_com", file, ctx.commune_codes, unique=False, departement=ctx.departement)
    _check_code_qp(df, file)
    gdf = gpd.GeoDataFrame(
        {
            "code_qp": df["code_qp"].to_numpy(),
            "nom_qp": df["lib_qp"].to_numpy(),
            "code_commune": codes.to_numpy(),
            "perimetre": False,
        },
        geometry=gpd.GeoSeries([None] * len(df), crs=WGS84),
        crs=WGS84,
    )
    notes = [f"{len(gdf)} QPV 2024 sans périmètre (liste des codes seulement) : rattachement à la commune"]
    return LayerResult("qpv2024", select(gdf, COLUMNS_2024), "qpv2024_liste", [path], warnings=warnings, notes=notes)


def import_qpv2024(path: Path, ctx: ImportContext) -> LayerResult:
    """Either QPV 2024 input, chosen by the file type (GeoJSON → perimeters, CSV → list)."""
    if path.suffix.lower() in {".geojson", ".json"}:
        return import_qpv2024_perimetres(path, ctx)
    return import_qpv2024_liste(path, ctx)
