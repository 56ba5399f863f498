"""Rural priority zonings per commune: ZRR 2017 (historical) and France Ruralités Revitalisation (current).

- ``zrr2017``: ``code_commune``, ``zrr_simp`` (``C``/``NC``/``P``), ``zonage_zrr`` (``C``/``A``/``NC``, ``P``),
  ``zrr_classee`` (bool: ``ZONAGE_ZRR`` is ``C``, the « communes classées » of the official lists: 124 in dept 66),
  ``statut`` (one of :data:`ZRR_STATUTS`: the 5 « A – sortantes » of dept 66 are a class of their own, never
  counted as classées), ``libelle`` (the original ``ZONAGE_ZRR`` label, the most detailed).
  Reads the ANCT csv cut or the official workbook ``diffusion-zonages-zrr-cog2021.xls`` (header on row 6).
- ``frr2025``: ``code_commune``, ``classement`` (one of :data:`FRR_CLASSES`), ``frr_classee`` (bool).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.importers._common import cut_departement, missing_communes_warning
from geodata.readers import LINE, check_codes, normalise_name, read_table

ZRR_COLUMNS = ("code_commune", "zrr_simp", "zonage_zrr", "zrr_classee", "statut", "libelle")
FRR_COLUMNS = ("code_commune", "classement", "frr_classee")
ZRR_REQUIRED = ("CODGEO", "LIBGEO", "ZRR_SIMP", "ZONAGE_ZRR")
ZRR_EXCEL_SKIPROWS = 5
"""The official workbook has five title lines above the header (row 6)."""
FRR_CLASSES = (
    "Non classée",
    "FRR socle",
    "FRR+",
    "FRR bénéficiaire",
    "FRR bénéficiaire partiellement",
    "Classée FRR partiellement",
)
ZRR_STATUTS = {
    "C": "classée",
    "A": "sortante (effets maintenus)",
    "P": "partiellement classée",
    "NC": "non classée",
}
"""``ZONAGE_ZRR`` code → status shown to users. ``A`` = « sortante en 2017 continuant de bénéficier des effets du
classement »: ``ZRR_SIMP`` says « C - Classée » for them, but the official count of classées (124 in dept 66,
as in the CAF brochure) excludes them."""
_ZRR_CODE = re.compile(r"^\s*(NC|C|P|A)(?:\s*-\s*|\s{2,}|\s*$)")


def _zrr_sheet(path: Path) -> str | int:
    # The workbook holds a metadata sheet and one « Classement ZRR (COG yyyy) » sheet per COG: take the newest.
    with pd.ExcelFile(path) as book:
        names = book.sheet_names
    candidates = [n for n in names if "classement" in normalise_name(n) or "zrr" in normalise_name(n)]
    if not candidates:
        return 0
    newest: str = max(candidates, key=lambda n: max((int(y) for y in re.findall(r"\d{4}", n)), default=0))
    return newest


def _zrr_codes(df: pd.DataFrame, column: str, allowed: tuple[str, ...], file: str) -> tuple[list[str], list[Problem]]:
    codes, problems = [], []
    for label, line in zip(df[column], df[LINE], strict=True):
        match = _ZRR_CODE.match(label)
        code = match.group(1) if match else ""
        if code not in allowed:
            problems.append(
                Problem(
                    file,
                    f"classement ZRR « {label} » inconnu",
                    row=int(line),
                    column=column,
                    suggestion=f"valeurs attendues : {', '.join(f'« {c} - … »' for c in allowed)}",
                )
            )
        codes.append(code)
    return codes, problems


def import_zrr2017(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the ZRR classification (csv cut or the official xls/xlsx workbook).

    Raises:
        DataError: missing column, unknown label, duplicated or unknown commune code.
    """
    file = path.name
    warnings: list[Problem] = []
    if path.suffix.lower() in {".xls", ".xlsx", ".xlsm"}:
        sheet = _zrr_sheet(path)
        df = read_table(path, ZRR_REQUIRED, skiprows=ZRR_EXCEL_SKIPROWS, sheet=sheet)
    else:
        df = read_table(path, ZRR_REQUIRED, warnings=warnings)
    df = cut_departement(df, "CODGEO", ctx, file)
    codes = check_codes(df, "CODGEO", file, ctx.commune_codes, departement=ctx.departement)
    simp, problems = _zrr_codes(df, "ZRR_SIMP", ("C", "NC", "P"), file)
    zonage, more = _zrr_codes(df, "ZONAGE_ZRR", ("C", "A", "NC", "P"), file)
    if problems + more:
        raise DataError((problems + more)[:50])
    table = pd.DataFrame(
        {
            "code_commune": codes.to_numpy(),
            "zrr_simp": simp,
            "zonage_zrr": zonage,
            "zrr_classee": [c == "C" for c in zonage],
            "statut": [ZRR_STATUTS[c] for c in zonage],
            "libelle": df["ZONAGE_ZRR"].to_numpy(),
        }
    )
    warnings += missing_communes_warning(table["code_commune"], ctx, file)
    counts = table["statut"].value_counts()
    notes = [
        f"ZRR 2017 : {int(table['zrr_classee'].sum())} commune(s) classée(s) (ZONAGE_ZRR = C) sur {len(table)}"
        + "".join(f" ; {int(counts[s])} {s}" for s in ZRR_STATUTS.values() if s != "classée" and s in counts)
    ]
    return LayerResult("zrr2017", table, "zrr2017", [path], warnings=warnings, notes=notes)


def _frr_class(label: str) -> str | None:
    wanted = normalise_name(label).replace(" +", "+")
    for name in FRR_CLASSES:
        if normalise_name(name) == wanted:
            return name
    return None


def import_frr2025(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the FRR / FRR+ list (``;``, trailing ``;``), cut on its ``Departement`` column.

    The class column is found by its start (« Classement FRR … »): its name carries the date of the arrêté.

    Raises:
        DataError: missing column, unknown class label, inconsistent département, duplicated or unknown code.
    """
    file = path.name
    warnings: list[Problem] = []
    df = read_table(path, ["Code_insee", "Departement"], optional=["Commune"], warnings=warnings)
    class_columns = [c for c in df.columns if normalise_name(c).startswith("classement")]
    if not class_columns:
        raise DataError(
            Problem(
                file,
                "colonne obligatoire absente",
                row=1,
                column="Classement FRR et FRR+ au …",
                suggestion=f"colonnes trouvées : {', '.join(c for c in df.columns if c != LINE)}",
            )
        )
    column = class_columns[0]
    df = cut_departement(df, "Code_insee", ctx, file, dep_column="Departement")
    codes = check_codes(df, "Code_insee", file, ctx.commune_codes, departement=ctx.departement)
    classes = [_frr_class(v) for v in df[column]]
    problems = [
        Problem(
            file,
            f"classement « {label} » inconnu",
            row=int(line),
            column=column,
            suggestion=f"valeurs attendues : {', '.join(FRR_CLASSES)}",
        )
        for label, line, cls in zip(df[column], df[LINE], classes, strict=True)
        if cls is None
    ]
    if problems:
        raise DataError(problems[:50])
    table = pd.DataFrame(
        {
            "code_commune": codes.to_numpy(),
            "classement": classes,
            "frr_classee": [c != "Non classée" for c in classes],
        }
    )
    warnings += missing_communes_warning(table["code_commune"], ctx, file)
    notes = [f"source de la colonne de classement : « {column} »"]
    return LayerResult("frr2025", table, "frr2025", [path], warnings=warnings, notes=notes)
