"""France services: the ANCT list of structures (``liste-fs-YYYYMMDD.csv``) → layer ``france_services`` (points).

Columns: ``id_fs``, ``nom``, ``code_commune``, ``commune``, ``adresse``, ``code_postal``, ``type_fs``
(Principal/Antenne), ``format_fs``, ``horaires`` (« lundi 08:45 - 12:45 ; mardi … »), ``telephone``, ``mail``,
``lon``, ``lat``, geometry (EPSG:4326).
"""

from __future__ import annotations

from pathlib import Path

from geodata.errors import Problem
from geodata.importers import ImportContext, LayerResult
from geodata.importers._common import build_points, check_unique, cut_departement, select
from geodata.readers import check_codes, read_table

LAYER_ID = "france_services"
COLUMNS = (
    "id_fs",
    "nom",
    "code_commune",
    "commune",
    "adresse",
    "code_postal",
    "type_fs",
    "format_fs",
    "horaires",
    "telephone",
    "mail",
    "lon",
    "lat",
    "geometry",
)
REQUIRED = (
    "id_fs",
    "insee_dep",
    "lib_fs",
    "adresse",
    "insee_com",
    "code_postal",
    "lib_com",
    "latitude",
    "longitude",
    "type_fs",
    "format_fs",
)
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")
OPTIONAL = ("complement_adresse", "mail", "telephone", *(f"h_{d}" for d in DAYS))
TYPES = frozenset({"Principal", "Antenne"})


def opening_hours(row: dict[str, str]) -> str:
    """One readable text from the six ``h_<jour>`` columns; closed days are left out."""
    return " ; ".join(f"{day} {row.get(f'h_{day}', '').strip()}" for day in DAYS if row.get(f"h_{day}", "").strip())


def import_france_services(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the ANCT France services list, cut on ``insee_dep``.

    Raises:
        DataError: missing column, unknown or inconsistent commune code, repeated ``id_fs``, bad coordinates.
    """
    file = path.name
    warnings: list[Problem] = []
    df = read_table(path, REQUIRED, optional=OPTIONAL, warnings=warnings)
    for column in OPTIONAL:
        if column not in df.columns:
            df[column] = ""
    df = cut_departement(df, "insee_com", ctx, file, dep_column="insee_dep")
    codes = check_codes(df, "insee_com", file, ctx.commune_codes, unique=False, departement=ctx.departement)
    check_unique(df, "id_fs", file)
    for _, row in df[~df["type_fs"].isin(TYPES)].iterrows():
        warnings.append(
            Problem(
                file,
                f"type de structure « {row['type_fs']} » inattendu (Principal ou Antenne)",
                row=int(row["_ligne"]),
                column="type_fs",
                severity="avertissement",
            )
        )
    gdf = build_points(df, file, ctx, lon_column="longitude", lat_column="latitude")
    records = df.to_dict("records")
    gdf = gdf.assign(
        nom=df["lib_fs"].to_numpy(),
        code_commune=codes.to_numpy(),
        commune=df["lib_com"].to_numpy(),
        adresse=[", ".join(p for p in (r["adresse"], r["complement_adresse"]) if p) for r in records],
        horaires=[opening_hours(r) for r in records],
    )
    counts = df["type_fs"].value_counts()
    notes = [f"{len(df)} France services ({', '.join(f'{n} {t}' for t, n in counts.items())})"]
    return LayerResult(LAYER_ID, select(gdf, COLUMNS), "france_services", [path], warnings=warnings, notes=notes)
