"""Read publishers' tabular files as they come (encoding, separator, BOM, header quirks) into string tables.

Every importer goes through :func:`read_table`, then converts the columns it needs with :func:`to_number`. Both raise
:class:`~geodata.errors.DataError` naming the file, the line and the column, so a bad file never half-imports.

The returned frame keeps every cell as ``str`` (``""`` for empty) plus a ``_ligne`` column: the line number a person
sees when opening the file (header = 1 for CSV; the sheet row for Excel). Importers quote it in their own errors.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError, Problem

LINE = "_ligne"
"""Name of the column holding the file line number of each row."""

SECRET_MARKERS = frozenset({"s", "secret", "c", "nd_secret"})
"""Cell values meaning « secret statistique » (INSEE writes ``s``; some CAF exports write ``secret``)."""

MISSING_MARKERS = frozenset({"", "nd", "n.d.", "na", "n/a", "nan", "null", "none", "-", "—"})
"""Cell values meaning « non disponible »."""

STATE_VALUE = "valeur"
STATE_SECRET = "secret"
STATE_MISSING = "nd"
"""The three states of a statistic: a real value (possibly a true zero), a secret value, a value not available."""

_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<\?xml[^>]*>\s*<html|<head|<body)", re.IGNORECASE)
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf©¨ª«®´¢§¹]|â€")


def normalise_name(name: str) -> str:
    """Comparable form of a column name: no BOM, no accents, lower case, single spaces."""
    name = name.replace("\ufeff", "").strip()
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", name).lower()


def _decode(raw: bytes, file: str, encoding: str) -> tuple[str, list[Problem]]:
    warnings: list[Problem] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if encoding == "auto":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
            warnings.append(
                Problem(
                    file,
                    "fichier lu en Windows-1252 (Latin-1) et non en UTF-8",
                    suggestion="enregistrez-le en « CSV UTF-8 » pour éviter toute erreur d'accent",
                    severity="avertissement",
                )
            )
    else:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise DataError(
                Problem(
                    file,
                    f"encodage inattendu : ce fichier n'est pas en {encoding.upper()} (octet {raw[exc.start]:#04x})",
                    row=line,
                    suggestion=f"réenregistrez le fichier en {encoding.upper()}",
                )
            ) from None
    match = _MOJIBAKE.search(text)
    if match:
        line = text[: match.start()].count("\n") + 1
        raise DataError(
            Problem(
                file,
                f"accents mal encodés (« {match.group(0)} ») : le fichier a été converti deux fois",
                row=line,
                suggestion="repartez du fichier d'origine et enregistrez-le une seule fois en UTF-8",
            )
        )
    return text, warnings


def _sniff_separator(header_line: str, candidates: str, expected: Sequence[str]) -> str:
    wanted = {normalise_name(c) for c in expected}

    def score(sep: str) -> tuple[int, int]:
        names = {normalise_name(c) for c in next(csv.reader([header_line], delimiter=sep))}
        return (len(names & wanted), header_line.count(sep))

    return max(candidates, key=score)


def _check_not_html(raw: bytes, file: str) -> None:
    if _HTML_START.match(raw[:512]) or b"<html" in raw[:2048].lower():
        raise DataError(
            Problem(
                file,
                "ce fichier est une page HTML (page d'erreur ou de connexion enregistrée à la place des données)",
                row=1,
                suggestion="téléchargez à nouveau le fichier depuis le site du producteur",
            )
        )


def read_table(
    path: str | Path,
    required: Iterable[str] = (),
    *,
    optional: Iterable[str] = (),
    encoding: str = "auto",
    separators: str = ";,\t",
    skiprows: int = 0,
    sheet: str | int | None = None,
    warnings: list[Problem] | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX/XLS file into a string table whose column names are exactly ``required`` + ``optional``
    as spelled here (matching is tolerant of case, accents, BOM and spaces), plus any other column of the file.

    Why strings: publishers mix decimal commas, secret markers and leading zeros in codes; converting is the
    importer's job, column by column, with an error naming the line.

    Raises:
        DataError: empty or HTML file, undecodable bytes, missing required columns, ragged or truncated lines.
    """
    path = Path(path)
    file = path.name
    required = list(required)
    optional = list(optional)
    if not path.is_file():
        raise DataError(Problem(file, "fichier introuvable", suggestion=str(path)))
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(Problem(file, "fichier vide", suggestion="vérifiez l'export : aucune donnée n'a été écrite"))
    _check_not_html(raw, file)
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        df = _read_excel(path, sheet=sheet, skiprows=skiprows)
    else:
        text, decode_warnings = _decode(raw, file, encoding)
        if warnings is not None:
            warnings.extend(decode_warnings)
        df = _read_csv_text(text, file, separators, skiprows, required + optional)
    return _rename_expected(df, file, required, optional)


def _read_csv_text(text: str, file: str, separators: str, skiprows: int, expected: Sequence[str]) -> pd.DataFrame:
    lines = text.splitlines(keepends=True)
    body = "".join(lines[skiprows:])
    if not body.strip():
        raise DataError(Problem(file, "fichier vide après l'en-tête"))
    header_line = body.splitlines()[0]
    sep = _sniff_separator(header_line, separators, expected)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(Problem(file, "fichier vide")) from None
    header = [h.replace("\ufeff", "").strip() for h in header]
    # Some official files end every line with the separator (FRR list): an unnamed, empty last column.
    trailing_empty = bool(header) and header[-1] == ""
    if trailing_empty:
        header = header[:-1]
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    problems: list[Problem] = []
    # A record starts on the physical line after the last one read (quoted fields may span several lines).
    previous_end = reader.line_num
    for record in _iter_records(reader, file, skiprows):
        start = skiprows + previous_end + 1
        previous_end = reader.line_num
        fields = record
        if trailing_empty and len(fields) == len(header) + 1 and fields[-1].strip() == "":
            fields = fields[:-1]
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append(
                Problem(
                    file,
                    f"{len(fields)} champ(s) au lieu de {len(header)} (séparateur « {sep} » détecté)",
                    row=start,
                    suggestion="ligne tronquée, guillemet non fermé ou séparateur en trop",
                )
            )
        else:
            rows.append([f.strip() for f in fields])
            line_numbers.append(start)
        if len(problems) >= 20:
            break
    if problems:
        raise DataError(problems)
    if not rows:
        raise DataError(Problem(file, "aucune ligne de données après l'en-tête", row=skiprows + 1))
    if not text.endswith(("\n", "\r")) and len(rows[-1]) == len(header) and _looks_cut(rows[-1]):
        raise DataError(Problem(file, "la dernière ligne semble coupée (fichier tronqué)", row=line_numbers[-1]))
    df = pd.DataFrame(rows, columns=_dedupe(header), dtype=object)
    df[LINE] = line_numbers
    return df


def _looks_cut(fields: list[str]) -> bool:
    # A file cut mid-line without a final newline usually ends on an empty or half-written last field.
    return fields[-1] == ""


def _iter_records(reader: csv._reader, file: str, skiprows: int = 0) -> Iterable[list[str]]:
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(Problem(file, f"CSV illisible : {exc}", row=skiprows + reader.line_num)) from None


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}.{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def _read_excel(path: Path, sheet: str | int | None, skiprows: int) -> pd.DataFrame:
    file = path.name
    engine = "xlrd" if path.suffix.lower() == ".xls" else "openpyxl"
    try:
        df = pd.read_excel(
            path, sheet_name=0 if sheet is None else sheet, skiprows=skiprows, dtype=object, engine=engine
        )
    except ValueError as exc:
        raise DataError(Problem(file, f"classeur illisible : {exc}")) from None
    except Exception as exc:  # zip/xlrd errors: corrupt or truncated workbook
        raise DataError(Problem(file, f"classeur Excel illisible ou tronqué ({type(exc).__name__})")) from None
    df.columns = _dedupe([str(c).strip() for c in df.columns])
    df = df.dropna(how="all")
    if df.empty:
        raise DataError(Problem(file, "aucune ligne de données dans la feuille", row=skiprows + 1))
    line_numbers = [int(i) + skiprows + 2 for i in df.index]
    df = df.map(_excel_cell_to_str)
    df[LINE] = line_numbers
    return df.reset_index(drop=True)


def _excel_cell_to_str(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value).strip()


def _rename_expected(df: pd.DataFrame, file: str, required: list[str], optional: list[str]) -> pd.DataFrame:
    by_norm = {normalise_name(c): c for c in df.columns if c != LINE}
    rename = {}
    missing = []
    for name in required + optional:
        actual = by_norm.get(normalise_name(name))
        if actual is None:
            if name in required:
                missing.append(name)
        elif actual != name:
            rename[actual] = name
    if missing:
        raise missing_columns_error(file, missing, [c for c in df.columns if c != LINE])
    return df.rename(columns=rename)


def missing_columns_error(
    file: str, missing: Iterable[str], found: Iterable[str] = (), suggestion: str = ""
) -> DataError:
    """One problem per missing required column, on the header line, listing the columns the file does have."""
    hint = suggestion or f"colonnes trouvées : {', '.join(h for h in found if h)[:300]}"
    return DataError(
        [Problem(file, "colonne obligatoire absente", row=1, column=name, suggestion=hint) for name in missing]
    )


def to_number(
    df: pd.DataFrame,
    column: str,
    file: str,
    *,
    secret: bool = False,
    minimum: float | None = None,
    integer: bool = False,
    required: bool = False,
) -> tuple[pd.Series, pd.Series]:
    """Convert a string column to floats and a state column (``valeur`` / ``secret`` / ``nd``).

    Accepts French and English writing: ``1 234,5``, ``1234.5``, ``12 %``. Why a separate state: a secret income and a
    missing one must stay distinct from a true zero all the way to the map.

    Raises:
        DataError: a cell that is not a number (naming line and column), a secret marker where the publisher never
            writes one, a value below ``minimum``, a decimal where an integer is expected, or an empty required cell.
    """
    values = np.full(len(df), np.nan)
    states = np.full(len(df), STATE_MISSING, dtype=object)
    problems: list[Problem] = []
    lines = df[LINE].tolist() if LINE in df.columns else list(range(2, len(df) + 2))
    for i, cell in enumerate(df[column].tolist()):
        text = "" if cell is None else str(cell).strip()
        low = text.lower()
        if low in MISSING_MARKERS:
            if required:
                problems.append(Problem(file, "valeur obligatoire manquante", row=lines[i], column=column))
            continue
        if low in SECRET_MARKERS:
            if secret:
                states[i] = STATE_SECRET
            else:
                problems.append(
                    Problem(
                        file,
                        f"« {text} » n'est pas un nombre",
                        row=lines[i],
                        column=column,
                        suggestion="une valeur secrète n'est pas attendue dans cette colonne",
                    )
                )
            continue
        number = parse_french_number(text)
        if number is None:
            problems.append(
                Problem(
                    file,
                    f"« {text[:40]} » n'est pas un nombre",
                    row=lines[i],
                    column=column,
                    suggestion="écrivez un nombre, par ex. 1234,5",
                )
            )
            continue
        if minimum is not None and number < minimum:
            problems.append(
                Problem(file, f"valeur {text} inférieure au minimum {minimum:g}", row=lines[i], column=column)
            )
            continue
        if integer and not float(number).is_integer():
            problems.append(Problem(file, f"« {text} » n'est pas un nombre entier", row=lines[i], column=column))
            continue
        values[i] = number
        states[i] = STATE_VALUE
        if len(problems) >= 50:
            break
    if problems:
        raise DataError(problems)
    return pd.Series(values, index=df.index, name=column), pd.Series(states, index=df.index, name=f"{column}_etat")


_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


def parse_french_number(text: str) -> float | None:
    """``"1 234,5"`` → 1234.5; ``"12 %"`` → 12.0; ``"1.5"`` → 1.5; anything else → None."""
    t = text.replace("\u00a0", " ").replace("\u202f", " ").strip().rstrip("%").strip()
    t = t.replace(" ", "")
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")
    elif t.count(",") == 1 and t.count(".") >= 1 and t.rfind(",") > t.rfind("."):
        t = t.replace(".", "").replace(",", ".")  # 1.234,5
    if not _NUMBER.match(t):
        return None
    return float(t)


def check_codes(
    df: pd.DataFrame,
    column: str,
    file: str,
    known_codes: Iterable[str],
    *,
    unique: bool = True,
    departement: str | None = None,
) -> pd.Series:
    """Normalise INSEE commune codes (5 characters, leading zero restored) and check them against the commune base.

    Raises:
        DataError: duplicated codes (when ``unique``), or codes absent from the base — merged communes from an old
            COG or communes of another département — naming each line.
    """
    known = set(known_codes)
    codes = df[column].astype(str).str.strip().map(lambda c: c.zfill(5) if c.isdigit() and len(c) == 4 else c)
    lines = df[LINE].tolist() if LINE in df.columns else list(range(2, len(df) + 2))
    problems = []
    if unique:
        dup = codes.duplicated(keep="first")
        for i in np.flatnonzero(dup.to_numpy()):
            problems.append(Problem(file, f"code commune {codes.iloc[i]} en double", row=lines[i], column=column))
    for i, code in enumerate(codes.tolist()):
        if code not in known:
            if departement and departement != "all" and not code.startswith(departement):
                hint = f"commune hors du département {departement}"
            else:
                hint = "code absent du COG en vigueur (commune fusionnée ou code erroné ?)"
            problems.append(
                Problem(file, f"code commune « {code} » inconnu", row=lines[i], column=column, suggestion=hint)
            )
        if len(problems) >= 50:
            break
    if problems:
        raise DataError(problems)
    return codes
