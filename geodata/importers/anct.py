"""ANCT context layers: communal typologies (four grids) and territorial programmes (points).

- ``anct_typologies``: ``code_commune``, ``densite``, ``ruralite``, ``centralite``, ``montagne`` (massif, or ``""``
  outside the mountain zone: the publisher lists only mountain communes). Read from four sibling files
  ``densite*.csv``, ``ruralite*.csv``, ``centralite*.csv``, ``montagne*.csv`` (``insee_com, lib_com, niveau_<grille>``).
- ``anct_programmes`` (points): ``programme`` (ACV, PVD, VA, CITEDUC, FRLA), ``programme_libelle``,
  ``id_territoire``, ``lib_territoire``, ``code_commune`` (first code of ``liste_geo`` « Nom (66xxx) »),
  ``date_signature``, ``lon``, ``lat``, geometry.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata.crs import WGS84
from geodata.errors import DataError, OutOfTerritory, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.importers._common import check_in_territory, missing_communes_warning, read_geojson, select
from geodata.readers import check_codes, read_table

GRIDS = ("densite", "ruralite", "centralite", "montagne")
TYPOLOGY_COLUMNS = ("code_commune", *GRIDS)
PROGRAMME_COLUMNS = (
    "programme",
    "programme_libelle",
    "id_territoire",
    "lib_territoire",
    "code_commune",
    "date_signature",
    "lon",
    "lat",
    "geometry",
)
PROGRAMMES = {
    "acv": ("ACV", "Action cœur de ville"),
    "pvd": ("PVD", "Petites villes de demain"),
    "va": ("VA", "Villages d'avenir"),
    "citeduc": ("CITEDUC", "Cités éducatives"),
    "frla": ("FRLA", "Fonds de restructuration des locaux d'activité"),
}
"""``programme_file`` prefix (the ANCT layer name, ``pvd_geom.geojson``) → code and French label."""
_INSEE_IN_PARENS = re.compile(r"\((\d[\dAB]\d{3})\)")


def _grid_file(densite: Path, grid: str) -> Path:
    if grid == "densite":
        return densite
    same_name = densite.with_name(densite.name.replace("densite", grid))
    if same_name != densite and same_name.is_file():
        return same_name
    matches = sorted(densite.parent.glob(f"{grid}*.csv"))
    if not matches:
        raise DataError(
            Problem(
                f"{grid}_{{dep}}.csv",
                f"fichier de la grille « {grid} » absent à côté de {densite.name}",
                suggestion="les quatre grilles (densite, ruralite, centralite, montagne) sont attendues ensemble",
            )
        )
    return matches[-1]


def import_anct_typologies(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the four ANCT communal grids into one table; ``path`` is the densite file, its siblings are read too.

    Raises:
        DataError: a grid file missing, a missing column, duplicated or unknown commune code.
    """
    warnings: list[Problem] = []
    inputs: list[Path] = []
    values: dict[str, dict[str, str]] = {}
    for grid in GRIDS:
        grid_path = _grid_file(path, grid)
        file = grid_path.name
        column = f"niveau_{grid}"
        df = read_table(grid_path, ["insee_com", column], optional=["lib_com"], warnings=warnings)
        df = df.assign(insee_com=df["insee_com"].str.strip().str.zfill(5))
        if ctx.departement != "all":
            df = df[df["insee_com"].str.startswith(ctx.departement)]
        codes = check_codes(df, "insee_com", file, ctx.commune_codes, departement=ctx.departement)
        # The ruralité labels come with a leading space (ANCT trimmed a numeric prefix): strip every label.
        values[grid] = dict(zip(codes, df[column].str.strip(), strict=True))
        if grid != "montagne":
            warnings += missing_communes_warning(codes, ctx, file)
        inputs.append(grid_path)
    base = sorted(ctx.commune_codes)
    table = pd.DataFrame({"code_commune": base})
    for grid in GRIDS:
        table[grid] = [values[grid].get(code, "") for code in base]
    notes = [f"{len(values['montagne'])} commune(s) en zone de montagne (les autres : « »)"]
    return LayerResult("anct_typologies", table, "anct_typologies", inputs, warnings=warnings, notes=notes)


def import_anct_programmes(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the ANCT programme points (ACV, PVD, VA, cités éducatives, FRLA) of the territory.

    Raises:
        DataError: bad GeoJSON, unknown programme, ``liste_geo`` without an INSEE code, unknown commune, point out of
            the territory.
    """
    file = path.name
    features = read_geojson(path, required=("programme_file", "id_territoire", "liste_geo"), kind="point")
    table = features.table
    problems: list[Problem] = []
    programmes, codes = [], []
    for i, (prog_file, liste) in enumerate(zip(table["programme_file"], table["liste_geo"], strict=True)):
        key = re.split(r"[_.\-]", prog_file.strip().lower(), maxsplit=1)[0]
        if key not in PROGRAMMES:
            problems.append(
                features.problem(
                    i,
                    f"programme « {prog_file} » inconnu",
                    key="id_territoire",
                    column="programme_file",
                    suggestion=f"attendu : {', '.join(PROGRAMMES)}",
                )
            )
        found = _INSEE_IN_PARENS.findall(liste)
        if not found:
            problems.append(
                features.problem(
                    i, f"aucun code commune « (66xxx) » dans « {liste} »", key="id_territoire", column="liste_geo"
                )
            )
        programmes.append(key)
        codes.append(found[0] if found else "")
    if problems:
        raise DataError(problems[:50])
    table = table.assign(programme_key=programmes, code_commune=codes)
    for column in ("lib_territoire", "date_signature"):
        if column not in table.columns:
            table[column] = ""
    if ctx.departement != "all":
        table = table[table["code_commune"].str.startswith(ctx.departement)].reset_index(drop=True)
        if table.empty:  # a file of another territory: the layer is missing here, not « no programme »
            raise OutOfTerritory(
                Problem(
                    file,
                    f"aucune ligne pour le département {ctx.departement}",
                    column="liste_geo",
                    suggestion="vérifiez que le fichier couvre bien ce département",
                )
            )
    gdf = gpd.GeoDataFrame(table, geometry="geometry", crs=WGS84)
    check_codes(gdf, "code_commune", file, ctx.commune_codes, unique=False, departement=ctx.departement)
    check_in_territory(gdf, file, ctx, [f"programme {t}" for t in gdf["id_territoire"]])
    gdf = gdf.assign(
        programme=[PROGRAMMES[k][0] for k in gdf["programme_key"]],
        programme_libelle=[PROGRAMMES[k][1] for k in gdf["programme_key"]],
        lon=gdf.geometry.x,
        lat=gdf.geometry.y,
    )
    counts = gdf["programme"].value_counts()
    notes = [*features.notes, "programmes : " + ", ".join(f"{k} {n}" for k, n in counts.items())]
    return LayerResult("anct_programmes", select(gdf, PROGRAMME_COLUMNS), "anct_programmes", [path], notes=notes)
