"""INSEE Filosofi per commune (``cc_filosofi_YYYY_COM``) → layer ``filosofi2021``.

Columns: ``code_commune``, ``med`` + ``med_etat`` (median niveau de vie, € per UC), ``tp60`` + ``tp60_etat`` (poverty
rate, %), ``nb_menages`` + ``nb_menages_etat``, ``nb_personnes`` + ``nb_personnes_etat``. A secret value (``s``) is
NaN with state ``secret``, never 0. Any year's suffix is accepted (``MED20``, ``TP6020``…); the year is noted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.importers._common import cut_departement, missing_communes_warning
from geodata.numbers import STATE_SECRET
from geodata.readers import LINE, check_codes, read_table, to_number

LAYER_ID = "filosofi2021"
COLUMNS = (
    "code_commune",
    "med",
    "med_etat",
    "tp60",
    "tp60_etat",
    "nb_menages",
    "nb_menages_etat",
    "nb_personnes",
    "nb_personnes_etat",
)
INDICATORS = {"med": "MED", "tp60": "TP60", "nb_menages": "NBMENFISC", "nb_personnes": "NBPERSMENFISC"}
"""Our column → INSEE stem; the file adds the two-digit year (``MED21``)."""


def _find_columns(columns: list[str], file: str) -> tuple[dict[str, str], int]:
    found: dict[str, str] = {}
    years: set[str] = set()
    for ours, stem in INDICATORS.items():
        pattern = re.compile(rf"^{stem}(\d{{2}})$", re.IGNORECASE)
        for column in columns:
            match = pattern.match(column.strip())
            if match:
                found[ours] = column
                years.add(match.group(1))
                break
    if "med" not in found:
        raise DataError(
            Problem(
                file,
                "colonne obligatoire absente",
                row=1,
                column="MEDaa",
                suggestion="fichier Filosofi « cc_filosofi_AAAA_COM » attendu, avec MED21 (ou MED20…)",
            )
        )
    if len(years) > 1:
        raise DataError(
            Problem(
                file,
                f"colonnes de millésimes différents : {', '.join(sorted(found.values()))}",
                row=1,
                suggestion="utilisez un seul fichier Filosofi, d'un seul millésime",
            )
        )
    return found, 2000 + int(years.pop())


def import_filosofi(path: Path, ctx: ImportContext) -> LayerResult:
    """Import median niveau de vie, poverty rate and household counts per commune.

    Raises:
        DataError: missing ``CODGEO``/``MEDaa``, non-numeric or negative value, duplicated or unknown commune code.
    """
    file = path.name
    warnings: list[Problem] = []
    df = read_table(path, ["CODGEO"], warnings=warnings)
    found, year = _find_columns([c for c in df.columns if c != LINE], file)
    df = cut_departement(df, "CODGEO", ctx, file)
    codes = check_codes(df, "CODGEO", file, ctx.commune_codes, departement=ctx.departement)
    table = pd.DataFrame({"code_commune": codes.to_numpy()})
    problems: list[Problem] = []
    for ours in INDICATORS:
        if ours not in found:
            table[ours] = float("nan")
            table[f"{ours}_etat"] = "nd"
            warnings.append(
                Problem(
                    file,
                    f"colonne {INDICATORS[ours]}{year % 100:02d} absente : « {ours} » non disponible",
                    severity="avertissement",
                )
            )
            continue
        try:
            values, states = to_number(df, found[ours], file, secret=True, minimum=0)
        except DataError as exc:
            problems += exc.problems
            continue
        table[ours] = values.to_numpy()
        table[f"{ours}_etat"] = states.to_numpy()
    if problems:
        raise DataError(problems[:50])
    warnings += missing_communes_warning(table["code_commune"], ctx, file)
    secret = int((table["med_etat"] == STATE_SECRET).sum())
    notes = [f"Filosofi {year} (colonne {found['med']})", f"médiane secrète pour {secret} commune(s)"]
    return LayerResult(LAYER_ID, table[list(COLUMNS)], "filosofi2021", [path], warnings=warnings, notes=notes)
