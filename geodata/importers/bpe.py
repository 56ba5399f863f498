"""INSEE Base permanente des équipements (BPE), geolocated file → layer ``bpe`` (points).

Two editions are read as published (``;`` separated, one row per equipment):

- 2018–2021 ``bpe21_ensemble_xy.csv``: ``DEPCOM``, ``TYPEQU``, ``LAMBERT_X``/``LAMBERT_Y`` in the projection given by
  ``EPSG`` (Lambert-93, EPSG:2154, in metropolitan France), ``QUALITE_XY``, ``AN``; no capacity;
- 2023+ ``BPE24.csv``: the same plus ``LONGITUDE``/``LATITUDE`` (WGS84) and ``CAPACITE`` (filled for crèches).

Only the childcare / family codes of :data:`BPE_CATEGORIES` are kept. The national file holds about 2.8 million rows,
so it is streamed (:func:`read_selected`) instead of going through :func:`geodata.readers.read_table`.

Columns of the layer: ``code_commune``, ``typequ``, ``categorie``, ``capacite`` + ``capacite_etat``, ``lon``,
``lat``, ``geolocalisation`` (``coordonnées``, or ``mairie`` when INSEE gives no coordinates and the town-hall point
is used), ``annee``, geometry (EPSG:4326).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from geodata.crs import LAMBERT93_EPSG, WGS84
from geodata.errors import DataError, Problem
from geodata.filecheck import check_source
from geodata.importers import ImportContext, LayerResult
from geodata.numbers import STATE_MISSING, parse_number
from geodata.readers import LINE, check_codes, missing_columns_error, normalise_name, to_number

BPE_CATEGORIES: dict[str, str] = {
    "D502": "eaje",
    "D503": "laep",
    "D504": "rpe",
    "D505": "alsh",
    "D506": "centre_social",
    "D509": "micro_creche",
}
"""TYPEQU code → layer category. These codes MUST be checked against the official nomenclature of the edition
imported (« nomenclature des équipements » published with each BPE): the D5xx list changed over time — BPE 2013 had a
single code D501 « Garde d'enfant d'âge préscolaire », and only D502 « Établissement d'accueil du jeune enfant » is
confirmed for the 2021+ editions. A code absent from the file simply yields no point."""

_LAMBERT93_BOUNDS = (-400_000.0, 1_500_000.0, 5_900_000.0, 7_300_000.0)
"""Generous Lambert-93 extent (x min, x max, y min, y max) of metropolitan France, Corsica included."""


def read_selected(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    keep: Callable[[dict[str, str]], bool] | None = None,
    separators: str = ";,",
    warnings: list[Problem] | None = None,
) -> pd.DataFrame:
    """Stream a large CSV and keep only the wanted columns and the rows ``keep`` accepts.

    Why: national files (BPE: 2.8 million rows × 100 columns; DGCL: 35 000 × 300) would need several GB as a full
    string table. The result follows :func:`geodata.readers.read_table`'s conventions: ``str`` cells, columns renamed
    to the spelling asked here (tolerant of case, accents, BOM, spaces), a ``_ligne`` column with the file line.

    Raises:
        DataError: empty or HTML file, missing required column, a line with the wrong number of fields.
    """
    file = path.name
    check_source(path)
    try:
        return _read_selected(path, "utf-8-sig", required, optional, keep, separators)
    except UnicodeDecodeError:
        if warnings is not None:
            warnings.append(
                Problem(
                    file,
                    "fichier lu en Windows-1252 (Latin-1) et non en UTF-8",
                    suggestion="enregistrez-le en « CSV UTF-8 » pour éviter toute erreur d'accent",
                    severity="avertissement",
                )
            )
        return _read_selected(path, "cp1252", required, optional, keep, separators)


def _read_selected(
    path: Path,
    encoding: str,
    required: Sequence[str],
    optional: Sequence[str],
    keep: Callable[[dict[str, str]], bool] | None,
    separators: str,
) -> pd.DataFrame:
    file = path.name
    # cp1252 is the fallback: its 5 undefined bytes (0x81, 0x8d…) must not crash it (same as readers._decode).
    errors = "replace" if encoding == "cp1252" else "strict"
    with path.open(encoding=encoding, errors=errors, newline="") as fh:
        header_line = fh.readline()
        wanted_norm = {normalise_name(c) for c in [*required, *optional]}
        sep = max(
            separators,
            key=lambda s: (
                len({normalise_name(c) for c in next(csv.reader([header_line], delimiter=s))} & wanted_norm),
                header_line.count(s),
            ),
        )
        header = [h.replace("\ufeff", "").strip() for h in next(csv.reader([header_line], delimiter=sep))]
        by_norm = {normalise_name(h): i for i, h in enumerate(header) if h}
        positions: dict[str, int] = {}
        missing = []
        for name in [*required, *optional]:
            idx = by_norm.get(normalise_name(name))
            if idx is not None:
                positions[name] = idx
            elif name in required:
                missing.append(name)
        if missing:
            raise missing_columns_error(file, missing, header)
        n_fields = len(header)
        trailing_empty = header[-1] == ""
        reader = csv.reader(fh, delimiter=sep, strict=False)
        rows: list[list[str]] = []
        lines: list[int] = []
        problems: list[Problem] = []
        previous = 1  # the header line was consumed by readline()
        for record in reader:
            line = previous + 1
            previous = reader.line_num + 1
            if not any(f.strip() for f in record):
                continue
            if trailing_empty and len(record) == n_fields - 1:
                record = [*record, ""]
            if len(record) != n_fields:
                problems.append(
                    Problem(
                        file,
                        f"{len(record)} champ(s) au lieu de {n_fields} (séparateur « {sep} » détecté)",
                        row=line,
                        suggestion="ligne tronquée, guillemet non fermé ou séparateur en trop",
                    )
                )
                if len(problems) >= 20:
                    break
                continue
            values = {name: record[i].strip() for name, i in positions.items()}
            if keep is None or keep(values):
                rows.append([values[name] for name in positions])
                lines.append(line)
    if problems:
        raise DataError(problems)
    df = pd.DataFrame(rows, columns=list(positions), dtype=object)
    df[LINE] = lines
    return df


def _year_from_name(name: str) -> int | None:
    match = re.search(r"(?<!\d)(20\d\d)(?!\d)", name) or re.search(r"bpe_?(\d\d)(?!\d)", name, re.IGNORECASE)
    if match is None:
        return None
    value = int(match.group(1))
    return value if value > 1000 else 2000 + value


def import_bpe(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the childcare and family equipments of the BPE for ``ctx.departement``, reprojected to WGS84.

    Raises:
        DataError: missing column, HTML page, unknown commune code, capacity that is not a non-negative integer,
            coordinates written in the wrong system (degrees in ``LAMBERT_X``, metres in ``LATITUDE``) or outside the
            territory, no year in the file nor in its name.
    """
    file = path.name
    warnings: list[Problem] = []
    codes_in_scope = ctx.in_scope

    def keep(row: dict[str, str]) -> bool:
        if row["TYPEQU"].upper() not in BPE_CATEGORIES:
            return False
        code = row.get("DEPCOM") or row.get("CODGEO") or ""
        return codes_in_scope(code.zfill(5) if code.isdigit() else code)

    optional = ["DEPCOM", "CODGEO", "AN", "LAMBERT_X", "LAMBERT_Y", "EPSG", "LONGITUDE", "LATITUDE"]
    optional += ["QUALITE_XY", "CAPACITE"]
    df = read_selected(path, ["TYPEQU"], optional, keep=keep, warnings=warnings)
    code_col = "DEPCOM" if "DEPCOM" in df.columns else "CODGEO" if "CODGEO" in df.columns else None
    if code_col is None:
        raise DataError.at(file, "colonne obligatoire absente", row=1, column="DEPCOM", suggestion="ou CODGEO")
    has_lambert = {"LAMBERT_X", "LAMBERT_Y"} <= set(df.columns)
    has_wgs84 = {"LONGITUDE", "LATITUDE"} <= set(df.columns)
    if not (has_lambert or has_wgs84):
        raise DataError.at(
            file, "colonnes de coordonnées absentes", row=1, column="LAMBERT_X", suggestion="ou LONGITUDE/LATITUDE"
        )
    year = _year_from_name(file)
    if df.empty:
        return _empty_result(file, path, year)
    codes = check_codes(df, code_col, file, ctx.commune_codes, unique=False, departement=ctx.departement)
    annee = _years(df, file, year)
    typequ = df["TYPEQU"].str.upper()
    if "CAPACITE" in df.columns:
        capacite, capacite_etat = to_number(df, "CAPACITE", file, minimum=0, integer=True)
    else:
        capacite = pd.Series(np.nan, index=df.index)
        capacite_etat = pd.Series(STATE_MISSING, index=df.index, dtype=object)
    lon, lat = _coordinates(df, file, has_lambert, has_wgs84)
    located = lon.notna()
    bounds = ctx.communes.total_bounds
    margin = 0.1
    outside = located & ~(
        lon.between(bounds[0] - margin, bounds[2] + margin) & lat.between(bounds[1] - margin, bounds[3] + margin)
    )
    if outside.any():
        i = int(np.flatnonzero(outside.to_numpy())[0])
        column = "LONGITUDE" if has_wgs84 and df["LONGITUDE"].iloc[i] else "LAMBERT_X"
        raise DataError.at(
            file,
            f"point ({lon.iloc[i]:.5f}, {lat.iloc[i]:.5f}) hors du territoire {ctx.departement}",
            row=int(df[LINE].iloc[i]),
            column=column,
            suggestion="coordonnées inversées (X/Y) ou mauvais système de coordonnées",
        )
    mairie = ctx.communes.set_index("code")[["mairie_lon", "mairie_lat"]]
    lon = lon.where(located, codes.map(mairie["mairie_lon"]))
    lat = lat.where(located, codes.map(mairie["mairie_lat"]))
    not_located = int((~located).sum())
    notes = []
    if not_located:
        first = df.loc[~located, LINE].head(10).tolist()
        warnings.append(
            Problem(
                file,
                f"{not_located} équipement(s) sans coordonnées placé(s) à la mairie de leur commune "
                f"(lignes {', '.join(map(str, first))}{'…' if not_located > 10 else ''})",
                severity="avertissement",
            )
        )
        notes.append(f"{not_located} équipement(s) non géolocalisé(s) par l'INSEE : point de la mairie")
    table = gpd.GeoDataFrame(
        {
            "code_commune": codes.to_numpy(),
            "typequ": typequ.to_numpy(),
            "categorie": typequ.map(BPE_CATEGORIES).to_numpy(),
            "capacite": capacite.to_numpy(dtype=float),
            "capacite_etat": capacite_etat.to_numpy(),
            "lon": lon.to_numpy(dtype=float),
            "lat": lat.to_numpy(dtype=float),
            "geolocalisation": np.where(located.to_numpy(), "coordonnées", "mairie"),
            "annee": annee.to_numpy(),
        },
        geometry=gpd.points_from_xy(lon.to_numpy(dtype=float), lat.to_numpy(dtype=float)),
        crs=WGS84,
    )
    notes.append(f"codes TYPEQU retenus : {', '.join(sorted(BPE_CATEGORIES))} (à vérifier selon le millésime)")
    return LayerResult("bpe", table, "bpe", [path], warnings=warnings, notes=notes)


def _empty_result(file: str, path: Path, year: int | None) -> LayerResult:
    table = gpd.GeoDataFrame(
        {
            "code_commune": pd.Series(dtype=object),
            "typequ": pd.Series(dtype=object),
            "categorie": pd.Series(dtype=object),
            "capacite": pd.Series(dtype=float),
            "capacite_etat": pd.Series(dtype=object),
            "lon": pd.Series(dtype=float),
            "lat": pd.Series(dtype=float),
            "geolocalisation": pd.Series(dtype=object),
            "annee": pd.Series(dtype="int64"),
        },
        geometry=gpd.GeoSeries([], crs=WGS84),
        crs=WGS84,
    )
    warning = Problem(file, "aucun équipement petite enfance/famille pour ce territoire", severity="avertissement")
    return LayerResult("bpe", table, "bpe", [path], warnings=[warning], notes=[f"millésime {year or 'inconnu'}"])


def _years(df: pd.DataFrame, file: str, from_name: int | None) -> pd.Series:
    if "AN" in df.columns:
        problems = [
            Problem(file, f"année « {v} » illisible", row=int(line), column="AN")
            for v, line in zip(df["AN"], df[LINE], strict=True)
            if not re.fullmatch(r"\d{4}", v)
        ]
        if problems:
            raise DataError(problems[:50])
        return df["AN"].astype("int64")
    if from_name is None:
        raise DataError.at(
            file,
            "millésime introuvable : ni colonne AN ni année dans le nom du fichier",
            suggestion="gardez le nom d'origine (bpe21_ensemble_xy.csv, BPE24.csv)",
        )
    return pd.Series(from_name, index=df.index, dtype="int64")


def _parse_column(df: pd.DataFrame, column: str, file: str) -> pd.Series:
    values = np.full(len(df), np.nan)
    problems = []
    for i, (cell, line) in enumerate(zip(df[column], df[LINE], strict=True)):
        if cell == "":
            continue
        number = parse_number(cell)
        if number is None:
            problems.append(Problem(file, f"« {cell[:40]} » n'est pas une coordonnée", row=int(line), column=column))
        else:
            values[i] = number
    if problems:
        raise DataError(problems[:50])
    return pd.Series(values, index=df.index)


def _coordinates(df: pd.DataFrame, file: str, has_lambert: bool, has_wgs84: bool) -> tuple[pd.Series, pd.Series]:
    """WGS84 longitude/latitude of each row (NaN when the row has none), preferring the WGS84 columns when filled."""
    lon = pd.Series(np.nan, index=df.index)
    lat = pd.Series(np.nan, index=df.index)
    lines = df[LINE].to_numpy()
    if has_wgs84:
        lon_in = _parse_column(df, "LONGITUDE", file)
        lat_in = _parse_column(df, "LATITUDE", file)
        _check_pairs(lon_in, lat_in, lines, file, ("LONGITUDE", "LATITUDE"))
        bad = (lat_in.abs() > 90) | (lon_in.abs() > 180)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            column = "LATITUDE" if abs(lat_in.iloc[i]) > 90 else "LONGITUDE"
            raise DataError.at(
                file,
                f"valeur {df[column].iloc[i]} en mètres dans une colonne en degrés (WGS84)",
                row=int(lines[i]),
                column=column,
                suggestion="ces coordonnées sont sans doute en Lambert-93 : placez-les dans LAMBERT_X/LAMBERT_Y",
            )
        lon, lat = lon_in, lat_in
    if has_lambert:
        x = _parse_column(df, "LAMBERT_X", file)
        y = _parse_column(df, "LAMBERT_Y", file)
        _check_pairs(x, y, lines, file, ("LAMBERT_X", "LAMBERT_Y"))
        todo = lon.isna() & x.notna()
        degrees = todo & (x.abs() <= 180) & (y.abs() <= 90)
        if degrees.any():
            i = int(np.flatnonzero(degrees.to_numpy())[0])
            raise DataError.at(
                file,
                f"valeur {df['LAMBERT_X'].iloc[i]} en degrés dans une colonne Lambert (mètres)",
                row=int(lines[i]),
                column="LAMBERT_X",
                suggestion="ces coordonnées sont sans doute en WGS84 : placez-les dans LONGITUDE/LATITUDE",
            )
        epsg = df["EPSG"].where(df["EPSG"] != "", str(LAMBERT93_EPSG)) if "EPSG" in df.columns else None
        codes = epsg if epsg is not None else pd.Series(str(LAMBERT93_EPSG), index=df.index)
        for code in sorted(set(codes[todo])):
            if not code.isdigit():
                i = int(np.flatnonzero((todo & (codes == code)).to_numpy())[0])
                raise DataError.at(file, f"code EPSG « {code} » illisible", row=int(lines[i]), column="EPSG")
            mask = todo & (codes == code)
            if int(code) == LAMBERT93_EPSG:
                xmin, xmax, ymin, ymax = _LAMBERT93_BOUNDS
                off = mask & ~(x.between(xmin, xmax) & y.between(ymin, ymax))
                if off.any():
                    i = int(np.flatnonzero(off.to_numpy())[0])
                    column = "LAMBERT_X" if not xmin <= x.iloc[i] <= xmax else "LAMBERT_Y"
                    raise DataError.at(
                        file,
                        f"point ({x.iloc[i]:.0f}, {y.iloc[i]:.0f}) hors de l'emprise du Lambert-93",
                        row=int(lines[i]),
                        column=column,
                        suggestion="X et Y inversés, ou coordonnées dans un autre système",
                    )
            transformer = Transformer.from_crs(f"EPSG:{code}", WGS84, always_xy=True)
            tx, ty = transformer.transform(x[mask].to_numpy(), y[mask].to_numpy())
            lon[mask] = tx
            lat[mask] = ty
    return lon, lat


def _check_pairs(a: pd.Series, b: pd.Series, lines: Iterable[int], file: str, names: tuple[str, str]) -> None:
    lines = list(lines)
    half = a.isna() != b.isna()
    if half.any():
        i = int(np.flatnonzero(half.to_numpy())[0])
        column = names[1] if a.notna().iloc[i] else names[0]
        raise DataError.at(file, "coordonnée incomplète (une seule des deux valeurs)", row=int(lines[i]), column=column)
