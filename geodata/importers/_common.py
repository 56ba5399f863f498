"""Shared steps of the official-file importers: cut to the département, build points, read and check GeoJSON.

Why one place: every publisher makes the same mistakes (Lambert-93 where degrees are expected, points of the
neighbouring département, invalid rings), and the error must read the same whatever the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from geodata.crs import LAMBERT93, WGS84
from geodata.errors import DataError, OutOfTerritory, Problem
from geodata.filecheck import check_source
from geodata.importers import ImportContext
from geodata.readers import LINE, to_number
from geodata.territory import PUBLIC_TOLERANCE_M, near_territory

_L93_HINT = "coordonnées en mètres, sans doute en Lambert-93 (EPSG:2154) : convertissez-les en degrés WGS84 (EPSG:4326)"


def normalise_code(value: object) -> str:
    """INSEE commune code as text: strips spaces, restores the leading zero Excel removes (``1004`` → ``01004``)."""
    text = "" if value is None else str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text.zfill(5) if text.isdigit() and len(text) == 4 else text


def normalise_dep(value: object) -> str:
    """Département code as text (``1`` → ``01``; ``2A``, ``971`` unchanged)."""
    text = "" if value is None else str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text.zfill(2) if text.isdigit() and len(text) == 1 else text


def cut_departement(
    df: pd.DataFrame,
    code_column: str,
    ctx: ImportContext,
    file: str,
    *,
    dep_column: str | None = None,
) -> pd.DataFrame:
    """Keep the rows of ``ctx.departement`` (all rows for ``"all"``), with normalised commune codes.

    With an explicit département column, a row of the département whose commune code belongs elsewhere is an error:
    the file contradicts itself and we cannot tell which of the two columns is right.

    Raises:
        DataError: inconsistent département/commune codes, or no row at all for the département.
    """
    df = df.assign(**{code_column: df[code_column].map(normalise_code)})
    if dep_column is not None:
        df = df.assign(**{dep_column: df[dep_column].map(normalise_dep)})
    if ctx.departement == "all":
        return df.reset_index(drop=True)
    if dep_column is None:
        kept = df[df[code_column].str.startswith(ctx.departement)]
    else:
        kept = df[df[dep_column] == ctx.departement]
        wrong = kept[~kept[code_column].str.startswith(ctx.departement)]
        if len(wrong):
            raise DataError(
                [
                    Problem(
                        file,
                        f"le code commune « {row[code_column]} » n'appartient pas au département {ctx.departement} "
                        f"indiqué dans la colonne « {dep_column} »",
                        row=int(row[LINE]),
                        column=code_column,
                        suggestion="corrigez le code commune ou le code département de cette ligne",
                    )
                    for _, row in wrong.head(50).iterrows()
                ]
            )
    if kept.empty:
        raise OutOfTerritory(
            Problem(
                file,
                f"aucune ligne pour le département {ctx.departement}",
                column=dep_column or code_column,
                suggestion="vérifiez que le fichier couvre bien ce département",
            )
        )
    return kept.reset_index(drop=True)


def check_unique(df: pd.DataFrame, column: str, file: str) -> None:
    """Refuse a repeated identifier (a site or a zone listed twice would be counted twice on the map).

    Raises:
        DataError: naming every repeated line.
    """
    dup = df[df[column].duplicated(keep="first")]
    if len(dup):
        raise DataError(
            [
                Problem(file, f"identifiant « {row[column]} » en double", row=int(row[LINE]), column=column)
                for _, row in dup.head(50).iterrows()
            ]
        )


def missing_communes_warning(codes: Iterable[str], ctx: ImportContext, file: str) -> list[Problem]:
    """Warn when a table meant to list every commune misses some (they will show as « non disponible »)."""
    present = set(codes)
    missing = sorted(ctx.commune_codes - present)
    if not missing:
        return []
    if not present & ctx.commune_codes:
        raise OutOfTerritory(
            Problem(
                file,
                f"aucune commune du département {ctx.departement} dans ce fichier",
                suggestion="vérifiez que le fichier couvre bien ce département",
            )
        )
    shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
    return [
        Problem(
            file,
            f"{len(missing)} commune(s) du territoire absente(s) du fichier : {shown}",
            suggestion="ces communes apparaîtront « non disponible »",
            severity="avertissement",
        )
    ]


def build_points(
    df: pd.DataFrame,
    file: str,
    ctx: ImportContext,
    *,
    lon_column: str,
    lat_column: str,
    code_column: str | None = None,
    warnings: list[Problem] | None = None,
) -> gpd.GeoDataFrame:
    """Turn WGS84 longitude/latitude columns into a point GeoDataFrame (EPSG:4326) with ``lon``/``lat`` columns.

    With ``code_column`` and ``warnings`` (old files with known geocoding slips), a point outside the territory is
    moved to the town hall of its commune and reported as a warning naming the line, instead of failing the layer;
    its ``position`` column then says so (shown in the structure's hover and details).

    Raises:
        DataError: missing or non-numeric coordinates, metric (Lambert-93) values, degrees out of range, or points
            outside the territory — each naming the line and the column.
    """
    lon, _ = to_number(df, lon_column, file, required=True)
    lat, _ = to_number(df, lat_column, file, required=True)
    lines = df[LINE].tolist()
    problems: list[Problem] = []
    for column, values, limit in ((lon_column, lon, 180.0), (lat_column, lat, 90.0)):
        for i, value in enumerate(values.tolist()):
            if abs(value) > 1000:
                problems.append(
                    Problem(
                        file,
                        f"valeur {value:g} : des degrés WGS84 sont attendus",
                        row=lines[i],
                        column=column,
                        suggestion=_L93_HINT,
                    )
                )
            elif abs(value) > limit:
                problems.append(
                    Problem(
                        file, f"valeur {value:g} hors de [-{limit:g}, {limit:g}] degrés", row=lines[i], column=column
                    )
                )
    if problems:
        raise DataError(problems[:50])
    gdf = gpd.GeoDataFrame(
        df.assign(lon=lon.to_numpy(), lat=lat.to_numpy()),
        geometry=gpd.points_from_xy(lon.to_numpy(), lat.to_numpy()),
        crs=WGS84,
    )
    labels = [f"point ({lat:g}, {lon:g})" for lon, lat in zip(lon.tolist(), lat.tolist(), strict=True)]
    column = f"{lat_column}/{lon_column}"
    if code_column is None or warnings is None:
        check_in_territory(gdf, file, ctx, labels, rows=lines, column=column)
        return gdf
    gdf["position"] = ""
    try:
        check_in_territory(gdf, file, ctx, labels, rows=lines, column=column)
    except DataError as exc:
        halls = ctx.communes.set_index("code")[["mairie_lon", "mairie_lat", "nom"]]
        bad = {p.row for p in exc.problems}
        for i in [i for i, n in enumerate(lines) if n in bad]:
            code = df[code_column].iloc[i]
            if code not in halls.index:
                raise
            x, y = halls.loc[code, "mairie_lon"], halls.loc[code, "mairie_lat"]
            gdf.iloc[i, gdf.columns.get_loc("lon")] = x
            gdf.iloc[i, gdf.columns.get_loc("lat")] = y
            gdf.iloc[i, gdf.columns.get_loc("geometry")] = shapely.Point(x, y)
            gdf.iloc[i, gdf.columns.get_loc("position")] = (
                f"déplacé à la mairie de {halls.loc[code, 'nom']} : le point publié ({labels[i][7:-1]}) est hors "
                f"du département {ctx.departement}"
            )
            problem = next(p for p in exc.problems if p.row == lines[i])
            warnings.append(
                Problem(
                    file,
                    problem.message,
                    row=problem.row,
                    column=problem.column,
                    suggestion=f"placé à la mairie de la commune {code}",
                    severity="avertissement",
                )
            )
    return gdf


def check_in_territory(
    gdf: gpd.GeoDataFrame,
    file: str,
    ctx: ImportContext,
    labels: Sequence[str],
    *,
    rows: Sequence[int | None] | None = None,
    column: str | None = None,
) -> None:
    """Refuse geometries farther than 2 km from every commune of the territory (:mod:`geodata.territory`).

    Why: a point of another département, or with latitude and longitude swapped, would silently land in the sea or
    count for the wrong commune.

    Raises:
        DataError: naming each geometry outside (``labels`` describe them: line or feature number).
    """
    if gdf.empty:
        return
    inside = near_territory(gdf.geometry, ctx.communes, PUBLIC_TOLERANCE_M)
    where = "du territoire" if ctx.departement == "all" else f"du département {ctx.departement}"
    problems = [
        Problem(
            file,
            f"{labels[i]} : localisation hors {where} (à plus de {PUBLIC_TOLERANCE_M / 1000:g} km de toute commune)",
            row=None if rows is None else rows[i],
            column=column,
            suggestion="vérifiez les coordonnées (latitude et longitude inversées ? autre département ?)",
        )
        for i in np.flatnonzero(~inside)[:50]
    ]
    if problems:
        raise DataError(problems)


@dataclass
class GeoJsonFeatures:
    """Features of a GeoJSON file: properties as text, geometry in EPSG:4326, and how to name each feature."""

    table: gpd.GeoDataFrame
    """Properties (``""`` for null) + geometry (EPSG:4326); row ``i`` is feature ``i + 1`` of the file."""
    rows: list[int | None]
    """Line of each feature in the file when the file has one feature per line, else ``None``."""
    notes: list[str] = field(default_factory=list)

    def label(self, i: int, key: str = "") -> str:
        """« entité n° 3 (QP066003) »: how an error names a feature of a one-line GeoJSON."""
        ident = f" ({self.table[key].iloc[i]})" if key and key in self.table.columns else ""
        return f"entité n° {i + 1}{ident}"

    def problem(
        self, i: int, message: str, *, key: str = "", column: str | None = None, suggestion: str = ""
    ) -> Problem:
        """A problem naming feature ``i`` (and its line when known)."""
        return Problem(
            self.file, f"{self.label(i, key)} : {message}", row=self.rows[i], column=column, suggestion=suggestion
        )

    file: str = ""


_FEATURE = re.compile(r'"type"\s*:\s*"Feature"')


def _declared_crs(obj: dict[str, Any], file: str) -> str:
    crs = obj.get("crs")
    if not crs:
        return WGS84  # RFC 7946: GeoJSON is WGS84 unless it says otherwise
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else str(crs)
    if "CRS84" in name.upper() or re.search(r"EPSG:{1,2}(\d+\.?\d*:)?4326$", name.upper()):
        return WGS84
    if re.search(r"EPSG:{1,2}(\d+\.?\d*:)?2154$", name.upper()):
        return LAMBERT93
    raise DataError(
        Problem(
            file,
            f"système de coordonnées « {name} » non pris en charge",
            suggestion="exportez le fichier en WGS84 (EPSG:4326)",
        )
    )


def read_geojson(path: Path, *, required: Sequence[str], kind: str) -> GeoJsonFeatures:
    """Read a GeoJSON FeatureCollection and check its CRS against its coordinates.

    ``kind`` is ``"point"`` or ``"polygon"``. A declared Lambert-93 file with metric coordinates is reprojected to
    WGS84 (noted); a declaration that contradicts the coordinates is refused, as is any other CRS. Invalid polygons
    are repaired with ``make_valid`` when that keeps an area (count reported in ``notes``), refused otherwise.

    Raises:
        DataError: empty, HTML, truncated or non-UTF-8 file, missing property, missing or wrong-type geometry,
            CRS contradicting the coordinates.
    """
    file = path.name
    check_source(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            Problem(
                file,
                "encodage inattendu : un GeoJSON doit être en UTF-8",
                row=raw[: exc.start].count(b"\n") + 1,
                suggestion="réexportez le fichier en UTF-8",
            )
        ) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            Problem(
                file,
                f"GeoJSON illisible ({exc.msg}, caractère {exc.colno}) : fichier tronqué ou mal formé",
                row=exc.lineno,
                suggestion="téléchargez à nouveau le fichier",
            )
        ) from None
    if not isinstance(obj, dict) or obj.get("type") != "FeatureCollection" or not isinstance(obj.get("features"), list):
        raise DataError(Problem(file, "ce n'est pas une collection d'entités GeoJSON (FeatureCollection)"))
    features = obj["features"]
    if not features:
        raise DataError(Problem(file, "aucune entité dans le fichier"))
    crs = _declared_crs(obj, file)
    offsets = [m.start() for m in _FEATURE.finditer(text)]
    one_per_line = text.count("\n") >= len(features) and len(offsets) == len(features)
    rows: list[int | None] = [text.count("\n", 0, o) + 1 if one_per_line else None for o in offsets]
    if len(rows) != len(features):
        rows = [None] * len(features)

    props = pd.DataFrame(
        [{k: ("" if v is None else str(v).strip()) for k, v in (f.get("properties") or {}).items()} for f in features]
    )
    missing = [c for c in required if c not in props.columns]
    if missing:
        found = ", ".join(props.columns)
        raise DataError(
            [
                Problem(
                    file, "propriété obligatoire absente", column=c, suggestion=f"propriétés trouvées : {found[:300]}"
                )
                for c in missing
            ]
        )
    props = props.fillna("")
    props[LINE] = [r if r is not None else i + 1 for i, r in enumerate(rows)]
    out = GeoJsonFeatures(table=gpd.GeoDataFrame(props), rows=rows, file=file)

    geoms: list[Any] = []
    problems: list[Problem] = []
    for i, feature in enumerate(features):
        try:
            geom = shape(feature["geometry"]) if feature.get("geometry") else None
        except Exception as exc:  # shapely refuses rings of < 4 points, malformed coordinates…
            problems.append(out.problem(i, f"géométrie illisible ({exc})"))
            geoms.append(None)
            continue
        if geom is None or geom.is_empty:
            problems.append(out.problem(i, "géométrie absente"))
        geoms.append(geom)
    if problems:
        raise DataError(problems[:50])
    geometry = gpd.GeoSeries(geoms)
    wanted = ("Point",) if kind == "point" else ("Polygon", "MultiPolygon")
    wrong = [i for i, g in enumerate(geoms) if g.geom_type not in wanted]
    if wrong:
        raise DataError(
            [out.problem(i, f"géométrie {geoms[i].geom_type} au lieu de {' ou '.join(wanted)}") for i in wrong[:50]]
        )
    _check_coordinates(geometry, crs, out)
    if crs == LAMBERT93:
        geometry = geometry.set_crs(LAMBERT93).to_crs(WGS84)
        out.notes.append("coordonnées Lambert-93 (EPSG:2154) reprojetées en WGS84")
    else:
        geometry = geometry.set_crs(WGS84)
    if kind == "polygon":
        geometry = _repair_polygons(geometry, out)
    out.table = gpd.GeoDataFrame(props, geometry=geometry.to_numpy(), crs=WGS84)
    return out


def _check_coordinates(geometry: gpd.GeoSeries, crs: str, out: GeoJsonFeatures) -> None:
    bounds = geometry.bounds.to_numpy()
    biggest = np.abs(bounds).max(axis=1)
    if crs == WGS84:
        bad = np.flatnonzero(biggest > 1000)
        if len(bad):
            raise DataError(
                [
                    out.problem(
                        int(i),
                        "coordonnées en mètres alors que le fichier déclare WGS84 (degrés)",
                        suggestion=_L93_HINT,
                    )
                    for i in bad[:50]
                ]
            )
        bad = np.flatnonzero(
            (np.abs(bounds[:, [0, 2]]).max(axis=1) > 180) | (np.abs(bounds[:, [1, 3]]).max(axis=1) > 90)
        )
        if len(bad):
            raise DataError([out.problem(int(i), "coordonnées hors des bornes des degrés WGS84") for i in bad[:50]])
    else:
        bad = np.flatnonzero(biggest <= 1000)
        if len(bad):
            raise DataError(
                [
                    out.problem(
                        int(i),
                        "le fichier déclare le Lambert-93 (EPSG:2154) mais les coordonnées sont en degrés",
                        suggestion="corrigez la déclaration « crs » du fichier en WGS84 (EPSG:4326)",
                    )
                    for i in bad[:50]
                ]
            )


def _repair_polygons(geometry: gpd.GeoSeries, out: GeoJsonFeatures) -> gpd.GeoSeries:
    invalid = np.flatnonzero(~geometry.is_valid.to_numpy())
    if len(invalid) == 0:
        return geometry
    geoms = geometry.to_numpy().copy()
    problems = []
    for i in invalid:
        fixed = shapely.make_valid(geoms[i])
        polygons = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon") and p.area > 0]
        if not polygons:
            problems.append(out.problem(int(i), "géométrie invalide et irréparable (aucune surface)"))
            continue
        geoms[i] = shapely.union_all(polygons)
    if problems:
        raise DataError(problems[:50])
    out.notes.append(f"{len(invalid)} géométrie(s) invalide(s) corrigée(s) (make_valid)")
    return gpd.GeoSeries(geoms, crs=geometry.crs)


def select(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The documented columns only, in order, with a fresh index (GeoDataFrames stay GeoDataFrames)."""
    return table[list(columns)].reset_index(drop=True)
