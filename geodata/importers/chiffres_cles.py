"""Key figures of the CAF 66 (annual reports relayed by the press, INSEE) → layer ``chiffres_cles``.

Columns: ``annee`` (int), ``indicateur``, ``valeur`` (float), ``unite``, ``precision``, ``editeur_source``,
``source_url``. Department-level: kept as a table, for headline figures and sanity checks only.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geodata.errors import DataError, OutOfTerritory, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.readers import LINE, read_table, to_number

COLUMNS = ("annee", "indicateur", "valeur", "unite", "precision", "editeur_source", "source_url")
DEPARTEMENT = "66"


def import_chiffres_cles(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the key figures (one per row); ``valeur`` must be a non-negative number, never secret.

    Raises:
        DataError: figures of another département, missing column, empty or non-numeric value, negative value,
            a figure given twice for the same year.
    """
    file = path.name
    if ctx.departement not in {DEPARTEMENT, "all"}:
        raise OutOfTerritory(
            Problem(file, f"chiffres clés de la Caf des Pyrénées-Orientales (66), pas du département {ctx.departement}")
        )
    warnings: list[Problem] = []
    df = read_table(
        path,
        ["annee", "indicateur", "valeur", "unite"],
        optional=["precision", "editeur_source", "source_url"],
        warnings=warnings,
    )
    for column in ("precision", "editeur_source", "source_url"):
        if column not in df.columns:
            df[column] = ""
    years, _ = to_number(df, "annee", file, integer=True, required=True, minimum=1900)
    values, _ = to_number(df, "valeur", file, required=True, minimum=0)
    dup = df[df.duplicated(["annee", "indicateur"], keep="first")]
    if len(dup):
        raise DataError(
            [
                Problem(
                    file,
                    f"indicateur « {row['indicateur']} » donné deux fois pour {row['annee']}",
                    row=int(row[LINE]),
                    column="indicateur",
                )
                for _, row in dup.iterrows()
            ]
        )
    table = pd.DataFrame(
        {
            "annee": years.astype("int64").to_numpy(),
            "indicateur": df["indicateur"].to_numpy(),
            "valeur": values.to_numpy(),
            "unite": df["unite"].to_numpy(),
            "precision": df["precision"].to_numpy(),
            "editeur_source": df["editeur_source"].to_numpy(),
            "source_url": df["source_url"].to_numpy(),
        }
    )
    return LayerResult("chiffres_cles", table, "chiffres_cles", [path], warnings=warnings)
