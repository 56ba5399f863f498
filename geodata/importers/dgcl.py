"""DGCL « Critères de répartition des dotations » (communes) → ``dgcl_pf`` (potentiel financier par habitant).

The yearly CSV (``,`` separated, decimal comma, about 300 columns named « section - label ») is streamed with
:func:`geodata.importers.bpe.read_selected`. Headers changed spelling across years (« Population INSEE Année N »
with a trailing space, later « Population INSEE de l'année N »): both are accepted. The file holds no year column:
it comes from the file name (``criteres_repartition_2024.csv``) or the ``annee`` parameter.

Columns of the layer: ``code_commune``, ``annee`` (int), ``pf_hab`` + ``pf_hab_etat`` (€ per inhabitant),
``population_dgf`` (float, NaN when the column is absent), ``population_insee`` (float).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.importers.bpe import read_selected
from geodata.readers import check_codes, normalise_name, to_number

CODE = "Informations générales - Code INSEE de la commune"
NAME = "Informations générales - Nom de la commune"
DEPARTEMENT = "Informations générales - Code département de la commune"
PF_HAB = "Potentiel fiscal et financier des communes - Potentiel financier par habitant"
POP_INSEE = (
    "Informations générales - Population INSEE Année N ",
    "Informations générales - Population INSEE de l'année N",
)
POP_DGF = ("Informations générales - Population DGF Année N'", "Informations générales - Population DGF de l'année N'")


def year_from_name(name: str) -> int | None:
    """Year written in a DGCL file name (``2024-communes-criteres-repartition.csv`` → 2024), else None."""
    match = re.search(r"(?<!\d)(20\d\d)(?!\d)", name)
    return int(match.group(1)) if match else None


def import_dgcl_pf(path: Path, ctx: ImportContext, *, annee: int | None = None) -> LayerResult:
    """Import the potentiel financier par habitant of the communes of ``ctx.departement``.

    Raises:
        DataError: missing column, HTML page, no year (name or parameter), non-numeric value, unknown commune.
    """
    file = path.name
    year = annee if annee is not None else year_from_name(file)
    if year is None:
        raise DataError.at(
            file,
            "année des critères introuvable dans le nom du fichier",
            suggestion="renommez-le par ex. criteres_repartition_2024.csv",
        )
    warnings: list[Problem] = []
    departement = ctx.departement

    def keep(row: dict[str, str]) -> bool:
        return departement == "all" or _full_code(row[CODE], row.get(DEPARTEMENT, "")).startswith(departement)

    df = read_selected(
        path, [CODE, PF_HAB], [NAME, DEPARTEMENT, *POP_INSEE, *POP_DGF], keep=keep, separators=",;", warnings=warnings
    )
    if df.empty:
        raise DataError.at(file, f"aucune commune du département {departement} dans ce fichier", column=CODE)
    df[CODE] = [_full_code(c, d) for c, d in zip(df[CODE], df.get(DEPARTEMENT, [""] * len(df)), strict=True)]
    codes = check_codes(df, CODE, file, ctx.commune_codes, departement=departement)
    df[PF_HAB] = df[PF_HAB].str.replace("€", "", regex=False)
    pf, pf_state = to_number(df, PF_HAB, file, secret=True, minimum=0)
    notes = [f"critères de répartition {year}"]
    table = pd.DataFrame(
        {
            "code_commune": codes.to_numpy(),
            "annee": np.full(len(df), year, dtype="int64"),
            "pf_hab": pf.to_numpy(),
            "pf_hab_etat": pf_state.to_numpy(),
            "population_dgf": _optional_count(df, POP_DGF, file, notes),
            "population_insee": _optional_count(df, POP_INSEE, file, notes),
        }
    )
    return LayerResult("dgcl_pf", table, "dgcl_pf", [path], warnings=warnings, notes=notes)


def _full_code(code: str, departement: str) -> str:
    # Some years write the INSEE code as a number (1001 for 01001); a 3-digit code is the commune part alone.
    code = code.strip()
    if code.isdigit() and len(code) == 4:
        return code.zfill(5)
    if code.isdigit() and len(code) <= 3 and departement:
        return departement.strip().zfill(2) + code.zfill(3)
    return code


def _optional_count(df: pd.DataFrame, names: tuple[str, ...], file: str, notes: list[str]) -> np.ndarray:
    for name in names:
        if name in df.columns:
            values, _ = to_number(df, name, file, minimum=0)
            return np.asarray(values.to_numpy())
    notes.append(f"colonne « {normalise_name(names[0])} » absente : valeurs non disponibles")
    return np.full(len(df), np.nan)
