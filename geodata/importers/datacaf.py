"""data.caf.fr (Cnaf, Opendatasoft) exports → ``caf_txcouv``, ``caf_nbpla``, ``caf_allocataires``.

Exports are read as data.caf.fr writes them (``/exports/csv``): ``;`` separated, UTF-8 with a BOM, field names as
headers (``numcom``, ``txcouv_com``…), decimal dot, empty cell when there is no value.

**One layer from several files.** The coverage rate and the places are published as one dataset per level
(``txcouv_pe_com``, ``txcouv_pe_epci``, ``txcouv_pe_dep``, ``txcouv_pe_nat``; ``nbpla_pe_com``…). The builder finds
one of them (``Source.find``) and calls the importer with that path; the importer then reads **every sibling of the
same family in the same directory** (file names starting with ``txcouv_pe_<niveau>`` / ``nbpla_pe_<niveau>``) and
combines them, adding ``niveau``. Keep the four exports side by side in one folder.

Cuts: commune rows of ``ctx.departement``; EPCI rows of the EPCI present in the commune base (placeholder ``XX`` rows
for communes outside any EPCI dropped); the département's row; the national row always.

Secret values (« floutées ») are written ``s``/``secret`` and become state ``secret``; an empty cell is ``nd``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError, Problem
from geodata.importers import ImportContext, LayerResult
from geodata.readers import LINE, check_codes, read_table, to_number

LEVELS = ("com", "epci", "dep", "nat")
"""Levels combined into one layer, in output order (the regional files are not used)."""

_KEYS = {"com": ("numcom", "nomcom"), "epci": ("numepci", "nomepci"), "dep": ("numdep", "nomdep")}

TXCOUV_MEASURES: dict[str, tuple[str, ...]] = {
    "txcouv": ("txcouv",),
    "txcouv_eaje": ("txcouv_eaje",),
    "txcouv_psu": ("txcouv_psu_col", "txcouv_psu"),
    "txcouv_hors_psu": ("txcouv_hors_psu_col", "txcouv_hors_psu"),
    "txcouv_prescol": ("txcouv_prescol",),
    "txcouv_am": ("txcouv_am_ind", "txcouv_am"),
    "txcouv_gad": ("txcouv_gad_ind", "txcouv_gad"),
    "txcouv_ind": ("txcouv_ind",),
}
"""Layer column → column stems tried in order (the level suffix ``_com``/``_nat``… is added). The national file has
been seen with shorter stems (``txcouv_psu_nat``, ``txcouv_am_nat``)."""

NBPLA_MEASURES: dict[str, tuple[str, ...]] = {
    "pl_psu": ("pl_psu_col", "pl_psu"),
    "pl_hors_psu": ("pl_hors_psu_col", "pl_hors_psu"),
    "pl_prescol": ("pl_prescol",),
    "pl_am": ("pl_am_ind", "pl_am"),
    "pl_gad": ("pl_gad_ind", "pl_gad"),
    "tot_offre": ("tot_offre",),
}

ALLOCATAIRES_MEASURES: dict[str, tuple[str, ...]] = {
    "foyers": ("indfoy_ndur", "Nombre foyers NDUR"),
    "personnes": ("indnbp_ndur", "Nombre personnes NDUR"),
}
"""``s_ben_com_f``: field names (default export) or labels (export with ``use_labels=true``)."""

_PLACEHOLDER = re.compile(r"^X+$", re.IGNORECASE)


def family_files(path: Path, family: str) -> dict[str, Path]:
    """Files of one data.caf.fr family beside ``path``, by level: ``{"com": …/txcouv_pe_com.csv, …}``.

    ``path`` itself always counts, even under another name. Historic series (``…_com_hist``) are not siblings.
    """
    pattern = re.compile(rf"^{re.escape(family)}_({'|'.join(LEVELS)})(?![a-z_])", re.IGNORECASE)
    found: dict[str, Path] = {}
    for candidate in sorted(path.parent.glob("*.csv")):
        match = pattern.match(candidate.name)
        if match and candidate.is_file():
            found.setdefault(match.group(1).lower(), candidate)
    own = pattern.match(path.name)
    if own:
        found[own.group(1).lower()] = path
    elif path.is_file():
        found.setdefault(_level_from_columns(path), path)
    return found


def _level_from_columns(path: Path) -> str:
    head = path.read_bytes()[:2048].decode("utf-8", errors="replace").lower()
    for level, (code, _) in _KEYS.items():
        if re.search(rf"(^|[;,\ufeff]){code}([;,\r\n]|$)", head):
            return level
    return "nat"


def import_caf_txcouv(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the Cnaf coverage rates (accueil du jeune enfant) of every level found beside ``path``.

    Raises:
        DataError: missing key or global rate column, HTML page, non-numeric or negative rate, unknown commune.
    """
    return _import_family(path, ctx, "txcouv_pe", "caf_txcouv", TXCOUV_MEASURES, required="txcouv")


def import_caf_nbpla(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the Cnaf places for children under 3 (PSU, hors PSU, préscolarisation, AM, GAD, total) of every level.

    Raises:
        DataError: as :func:`import_caf_txcouv`.
    """
    return _import_family(path, ctx, "nbpla_pe", "caf_nbpla", NBPLA_MEASURES, required="tot_offre")


def _import_family(
    path: Path,
    ctx: ImportContext,
    family: str,
    layer_id: str,
    measures: dict[str, tuple[str, ...]],
    required: str,
) -> LayerResult:
    files = family_files(path, family)
    warnings: list[Problem] = []
    notes: list[str] = []
    frames = [
        _read_level(files[level], level, ctx, measures, required, warnings, notes) for level in LEVELS if level in files
    ]
    table = pd.concat(frames, ignore_index=True)
    absent = [level for level in LEVELS if level not in files]
    if absent:
        notes.append(f"niveau(x) absent(s) : {', '.join(absent)} (fichiers {family}_<niveau>.csv non trouvés)")
    inputs = [files[level] for level in LEVELS if level in files]
    return LayerResult(layer_id, table, layer_id, inputs, warnings=warnings, notes=notes)


def _read_level(
    path: Path,
    level: str,
    ctx: ImportContext,
    measures: dict[str, tuple[str, ...]],
    required: str,
    warnings: list[Problem],
    notes: list[str],
) -> pd.DataFrame:
    file = path.name
    key_cols = list(_KEYS.get(level, ()))
    df = read_table(path, ["annee", *key_cols], warnings=warnings)
    lower = {c.lower(): c for c in df.columns}
    resolved: dict[str, str] = {}
    for out, stems in measures.items():
        for stem in stems:
            actual = lower.get(f"{stem}_{level}".lower())
            if actual is not None:
                resolved[out] = actual
                break
    if required not in resolved:
        raise DataError.at(file, "colonne obligatoire absente", row=1, column=f"{measures[required][0]}_{level}")
    missing = [out for out in measures if out not in resolved]
    if missing:
        notes.append(f"{file} : colonne(s) {', '.join(missing)} absente(s), valeurs non disponibles")
    df = _cut(df, level, ctx, file, notes)
    years = _years(df, file)
    if level == "nat":
        codes = pd.Series("FR", index=df.index)
        names = df[lower["national"]] if "national" in lower else pd.Series("France", index=df.index)
    else:
        codes, names = df[key_cols[0]], df[key_cols[1]]
    out = pd.DataFrame(
        {"niveau": level, "code": codes.to_numpy(), "nom": names.to_numpy(), "annee": years.to_numpy()},
        index=df.index,
    )
    _check_unique(out, df, file, key_cols[0] if key_cols else "annee")
    for name in measures:
        if name in resolved:
            values, states = to_number(df, resolved[name], file, secret=True, minimum=0)
        else:
            values = pd.Series(np.nan, index=df.index)
            states = pd.Series("nd", index=df.index, dtype=object)
        out[name] = values.to_numpy()
        out[f"{name}_etat"] = states.to_numpy()
    return out.reset_index(drop=True)


def _cut(df: pd.DataFrame, level: str, ctx: ImportContext, file: str, notes: list[str]) -> pd.DataFrame:
    if level == "nat":
        return df
    code_col, name_col = _KEYS[level]
    placeholder = df[code_col].str.match(_PLACEHOLDER) | df[name_col].str.match(_PLACEHOLDER) | (df[code_col] == "")
    if placeholder.any():
        notes.append(f"{file} : {int(placeholder.sum())} ligne(s) sans territoire (code « XX ») écartée(s)")
    df = df[~placeholder]
    if level == "com":
        codes = df[code_col].map(lambda c: c.zfill(5) if c.isdigit() and len(c) == 4 else c)
        df = df[codes.map(ctx.in_scope)].assign(**{code_col: codes})
        if not df.empty:
            df = df.assign(
                **{
                    code_col: check_codes(
                        df, code_col, file, ctx.commune_codes, unique=False, departement=ctx.departement
                    )
                }
            )
    elif level == "epci":
        known = set(ctx.communes["epci_code"]) - {""}
        df = df[df[code_col].isin(known)]
    elif ctx.departement != "all":
        df = df[df[code_col].str.zfill(2) == ctx.departement]
    return df.reset_index(drop=True)


def _years(df: pd.DataFrame, file: str, column: str = "annee") -> pd.Series:
    # ``annee`` is an integer in most datasets and a date (2023-01-01) in txcouv_pe_nat; s_ben_com_f has 2024-12.
    problems = []
    years = []
    for value, line in zip(df[column], df[LINE], strict=True):
        match = re.match(r"^(\d{4})(?:$|-\d\d)", value)
        if match is None:
            problems.append(Problem(file, f"année « {value} » illisible", row=int(line), column=column))
            years.append(0)
        else:
            years.append(int(match.group(1)))
    if problems:
        raise DataError(problems[:50])
    return pd.Series(years, index=df.index, dtype="int64")


def _check_unique(out: pd.DataFrame, df: pd.DataFrame, file: str, column: str) -> None:
    dup = out.duplicated(["code", "annee"], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError.at(
            file,
            f"{out['code'].iloc[i]} en double pour l'année {out['annee'].iloc[i]}",
            row=int(df[LINE].iloc[i]),
            column=column,
        )


def import_caf_allocataires(path: Path, ctx: ImportContext) -> LayerResult:
    """Import the number of foyers allocataires and persons covered per commune (``s_ben_com_f``), all years.

    Rows without a commune (empty code: allocataires not located) or with a masked code (``66XXX``) are dropped and
    counted in the notes. Counts are rounded to 5 by the publisher.

    Raises:
        DataError: missing column, HTML page, non-numeric or negative count, unknown commune, duplicated year.
    """
    file = path.name
    warnings: list[Problem] = []
    optional = [name for stems in ALLOCATAIRES_MEASURES.values() for name in stems]
    df = read_table(
        path, [], optional=["numcomdo", "numcom", "nomcom", "dtreffre", "annee", *optional], warnings=warnings
    )
    code_col = next((c for c in ("numcomdo", "numcom") if c in df.columns), None)
    date_col = next((c for c in ("dtreffre", "annee") if c in df.columns), None)
    if code_col is None:
        raise DataError.at(file, "colonne obligatoire absente", row=1, column="numcomdo")
    if date_col is None:
        raise DataError.at(file, "colonne obligatoire absente", row=1, column="dtreffre")
    resolved = {}
    for out, names in ALLOCATAIRES_MEASURES.items():
        actual = next((n for n in names if n in df.columns), None)
        if actual is None:
            raise DataError.at(
                file, "colonne obligatoire absente", row=1, column=names[0], suggestion=f"ou « {names[1]} »"
            )
        resolved[out] = actual
    codes = df[code_col].map(lambda c: c.zfill(5) if c.isdigit() and len(c) == 4 else c)
    located = codes.str.fullmatch(r"\d{5}|2[AB]\d{3}")
    notes = ["effectifs arrondis à 5 par la Cnaf"]
    dropped = int((~located & (codes.str[:2] == ctx.departement) | (codes == "")).sum())
    if dropped:
        notes.append(f"{dropped} ligne(s) sans commune (allocataires non localisés ou code masqué) écartée(s)")
    df = df[located & codes.map(ctx.in_scope)].assign(**{code_col: codes}).reset_index(drop=True)
    if df.empty:
        raise DataError.at(file, f"aucune commune du département {ctx.departement} dans ce fichier", column=code_col)
    checked = check_codes(df, code_col, file, ctx.commune_codes, unique=False, departement=ctx.departement)
    table = pd.DataFrame({"code_commune": checked.to_numpy(), "annee": _years(df, file, date_col).to_numpy()})
    _check_unique(table.rename(columns={"code_commune": "code"}), df, file, code_col)
    for out, actual in resolved.items():
        values, states = to_number(df, actual, file, secret=True, minimum=0)
        table[out] = values.to_numpy()
        table[f"{out}_etat"] = states.to_numpy()
    return LayerResult("caf_allocataires", table, "caf_allocataires", [path], warnings=warnings, notes=notes)
