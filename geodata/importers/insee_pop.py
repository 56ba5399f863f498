r"""INSEE « Évolution et structure de la population » by commune (``base-cc-evol-struct-pop-20YY``) → ``pop_age``.

The file (``;`` separated, one row per commune of France, about 100 columns) names its columns after the census
year: ``P22_POP``, ``P22_POP0002`` (0–2 years), ``P22_POP0305``, ``P22_POP0610``, ``P22_POP1117``… Counts are
weighted estimates, so they are decimals written with a dot. The year is read from the column prefix (any
``P\d\d_``), not from the file name, because renamed downloads are common.

Columns of the layer: ``code_commune``, ``annee`` (int), ``pop``, ``pop_0002``, ``pop_0305``, ``pop_0610``,
``pop_1117`` (float, each with ``_etat``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.readers import LINE, check_codes, missing_columns_error, read_table, to_number

AGE_BANDS: dict[str, str] = {
    "POP": "pop",
    "POP0002": "pop_0002",
    "POP0305": "pop_0305",
    "POP0610": "pop_0610",
    "POP1117": "pop_1117",
}
"""Suffix of the INSEE column (after ``Pyy_``) → layer column."""

_POP_COLUMN = re.compile(r"^P(\d\d)_POP$", re.IGNORECASE)


def census_year(columns: list[str]) -> tuple[int, str]:
    """Census year of the file and its column prefix (``2022``, ``"P22_"``): the most recent ``Pyy_POP`` column.

    Why the most recent only: the file may also carry older totals (``P16_POP``) for the evolution, and silently
    falling back to an older year when a band is missing would mislabel the layer.

    Raises:
        ValueError: no ``Pyy_POP`` column (args[0] is None), or a band missing for that year (args[0] is ``yy``).
    """
    upper = {c.upper() for c in columns}
    years = sorted({int(m.group(1)) for c in columns if (m := _POP_COLUMN.match(c))}, reverse=True)
    if not years:
        raise ValueError(None)
    prefix = f"P{years[0]:02d}_"
    if not all(prefix + suffix in upper for suffix in AGE_BANDS):
        raise ValueError(years[0])
    return 2000 + years[0], prefix


def import_pop_age(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the population by age band of the communes of ``ctx.departement``.

    Raises:
        DataError: missing ``CODGEO`` or age-band columns, HTML page, non-numeric or negative count, duplicated or
            unknown commune code.
    """
    file = path.name
    warnings: list[Problem] = []
    df = read_table(path, ["CODGEO"], warnings=warnings)
    try:
        year, prefix = census_year([c for c in df.columns if c != LINE])
    except ValueError as exc:
        yy = exc.args[0]
        prefix = f"P{yy:02d}_" if yy is not None else "P22_"
        present = {c.upper() for c in df.columns}
        missing = [prefix + s for s in AGE_BANDS if prefix + s not in present]
        raise missing_columns_error(
            file, missing, suggestion="fichier INSEE base-cc-evol-struct-pop (population par tranche d'âge)"
        ) from None
    by_upper = {c.upper(): c for c in df.columns}
    df = df.rename(columns={by_upper[prefix + s]: prefix + s for s in AGE_BANDS})
    codes_raw = df["CODGEO"].map(lambda c: c.zfill(5) if c.isdigit() and len(c) == 4 else c)
    df = df[codes_raw.map(ctx.in_scope)].reset_index(drop=True)
    if df.empty:
        raise DataError.at(file, f"aucune commune du département {ctx.departement} dans ce fichier", column="CODGEO")
    codes = check_codes(df, "CODGEO", file, ctx.commune_codes, departement=ctx.departement)
    data: dict[str, object] = {"code_commune": codes.to_numpy(), "annee": year}
    for suffix, out in AGE_BANDS.items():
        values, states = to_number(df, prefix + suffix, file, secret=True, minimum=0)
        data[out] = values.to_numpy()
        data[f"{out}_etat"] = states.to_numpy()
    table = pd.DataFrame(data)
    table["annee"] = table["annee"].astype("int64")
    notes = [f"recensement {year} (colonnes {prefix}…)"]
    absent = sorted(ctx.commune_codes - set(table["code_commune"]))
    if absent:
        warnings.append(
            Problem(
                file,
                f"{len(absent)} commune(s) du territoire absente(s) du fichier : {', '.join(absent[:10])}",
                severity="avertissement",
                suggestion="fichier d'un autre découpage communal (COG) que la base des communes ?",
            )
        )
    return LayerResult("pop_age", table, "pop_age", [path], warnings=warnings, notes=notes)
