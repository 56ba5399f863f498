"""Read publishers' tabular files as they come (encoding, separator, BOM, header quirks) into string tables.

Every importer goes through :func:`read_table`, then converts the columns it needs with :func:`to_number`. Both raise
:class:`~geodata.errors.DataError` naming the file, the line and the column, so a bad file never half-imports.

The returned frame keeps every cell as ``str`` (``""`` for empty) plus a ``_ligne`` column: the line number a person
sees when opening the file (header = 1 for CSV; the sheet row for Excel). Importers quote it in their own errors.
"""

from __future__ import annotations

import _csv
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from geodata.errors import DataError, Problem
from geodata.filecheck import check_head, check_source
from geodata.numbers import STATE_MISSING, STATE_SECRET, STATE_VALUE, format_count, format_number, parse_number

LINE = "_ligne"
"""Name of the column holding the file line number of each row."""

SECRET_MARKERS = frozenset({"s", "secret", "c", "nd_secret"})
"""Cell values meaning « secret statistique » (INSEE writes ``s``; some CAF exports write ``secret``)."""

MISSING_MARKERS = frozenset({"", "nd", "n.d.", "na", "n/a", "nan", "null", "none", "-", "—"})
"""Cell values meaning « non disponible »."""


_MOJIBAKE = re.compile("Ã[\u0080-\u00bf©¨ª«®´¢§¹]|â€")


def normalise_name(name: str) -> str:
    """Comparable form of a column name: no BOM, no accents, lower case, single spaces."""
    name = name.replace("\ufeff", "").strip()
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", name).lower()


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on the work of reading one file: beyond them the file is refused at once, with a French message.

    Why: a file is untrusted input (an upload, a file dropped in a folder). Without bounds, a 2,6 MB workbook
    declaring a million formatted empty rows, or a CSV of a gigabyte, keeps a worker busy for minutes and hundreds
    of megabytes. Defaults suit the public sources (national files are big); the CAF extracts use tighter ones
    (:data:`geodata.caf.CAF_LIMITS`, documented in ``docs/caf_extracts.md``).
    """

    max_bytes: int | None = None
    """File size."""
    max_rows: int | None = None
    """Data rows (non-empty rows after the header)."""
    max_lines: int | None = None
    """Lines read, empty ones included."""
    max_columns: int = 2_000
    """Columns of the header (and cells of a row)."""
    max_cell_chars: int = 131_072
    """Characters in one cell (the Python csv module's own limit by default)."""
    empty_run: int = 1_000
    """Excel: this many empty rows in a row end the sheet (a sheet may declare a million formatted empty rows)."""
    max_unzipped_bytes: int | None = None
    """Excel: total size of the workbook once unzipped (a few MB of zip can hold gigabytes of XML)."""


_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def utf16_codec(raw: bytes) -> str | None:
    """UTF-16 variant of ``raw`` (Excel's « Texte Unicode » export), from its BOM or its zero bytes; else None."""
    for bom, codec in _UTF16_BOMS.items():
        if raw.startswith(bom):
            return codec
    head = raw[:512]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_text(raw: bytes, file: str, encoding: str = "auto") -> tuple[str, list[Problem]]:
    """Text of a CSV file and the warnings about its encoding (UTF-8, UTF-16 named and read, else Windows-1252).

    Raises:
        DataError: bytes that do not decode in the ``encoding`` asked for, or accents converted twice (mojibake).
    """
    warnings: list[Problem] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    utf16 = utf16_codec(raw) if encoding == "auto" else None
    if utf16 is not None:
        try:
            text = raw.decode(utf16).lstrip("\ufeff")
        except UnicodeDecodeError:
            raise DataError(
                Problem(
                    file,
                    "fichier en UTF-16 (« Texte Unicode ») illisible : il semble tronqué",
                    suggestion="enregistrez-le en « CSV UTF-8 (délimité par des points-virgules) »",
                )
            ) from None
        warnings.append(
            Problem(
                file,
                "fichier encodé en UTF-16 (« Texte Unicode » d'Excel), lu comme tel",
                suggestion="enregistrez-le de préférence en « CSV UTF-8 (délimité par des points-virgules) »",
                severity="avertissement",
            )
        )
    elif encoding == "auto":
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


_decode = decode_text


def _sniff_separator(header_line: str, candidates: str, expected: Sequence[str]) -> str:
    wanted = {normalise_name(c) for c in expected}

    def score(sep: str) -> tuple[int, int]:
        names = {normalise_name(c) for c in next(csv.reader([header_line], delimiter=sep))}
        return (len(names & wanted), header_line.count(sep))

    return max(candidates, key=score)


MEGABYTE = 1024 * 1024
"""A « Mo » in every message and in the guide (the browser's message uses the same, ``assets/upload-limits.js``)."""


def megabytes(n: float, limit: bool = False) -> str:
    """``n`` bytes in Mo, French decimal comma: a file's size with one decimal (``11,4``), a limit without a useless
    one (``10``, ``64``)."""
    value = n / MEGABYTE
    if limit and abs(value - round(value)) < 0.05:
        return format_count(round(value))
    return format_number(value, 1)


_megabytes = megabytes


def _too_big(file: str, size: int, max_bytes: int) -> DataError:
    return DataError(
        Problem(
            file,
            f"fichier trop volumineux ({megabytes(size)} Mo ; maximum {megabytes(max_bytes, limit=True)} Mo)",
            suggestion="vérifiez le fichier : il ne doit contenir que les lignes du modèle",
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
    limits: ReadLimits | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX/XLS file into a string table whose column names are exactly ``required`` + ``optional``
    as spelled here (matching is tolerant of case, accents, BOM and spaces), plus any other column of the file.

    Why strings: publishers mix decimal commas, secret markers and leading zeros in codes; converting is the
    importer's job, column by column, with an error naming the line.

    Raises:
        DataError: empty or HTML file, undecodable bytes, missing or duplicated expected columns, ragged or truncated
            lines, or a file beyond ``limits`` (size, rows, columns, cell length).
    """
    path = Path(path)
    file = path.name
    check_source(path)
    limits = limits or ReadLimits()
    size = path.stat().st_size
    if limits.max_bytes is not None and size > limits.max_bytes:
        raise _too_big(file, size, limits.max_bytes)
    return read_table_bytes(
        path.read_bytes(),
        file,
        required,
        optional=optional,
        encoding=encoding,
        separators=separators,
        skiprows=skiprows,
        sheet=sheet,
        warnings=warnings,
        limits=limits,
    )


def read_table_bytes(
    raw: bytes,
    file: str,
    required: Iterable[str] = (),
    *,
    optional: Iterable[str] = (),
    encoding: str = "auto",
    separators: str = ";,\t",
    skiprows: int = 0,
    sheet: str | int | None = None,
    warnings: list[Problem] | None = None,
    limits: ReadLimits | None = None,
) -> pd.DataFrame:
    """:func:`read_table` of a file's bytes (an upload before it is written anywhere); ``file`` is its name."""
    required = list(required)
    optional = list(optional)
    limits = limits or ReadLimits()
    if limits.max_bytes is not None and len(raw) > limits.max_bytes:
        raise _too_big(file, len(raw), limits.max_bytes)
    check_head(raw, file)
    suffix = Path(file).suffix.lower()
    found: list[Problem] = []
    if suffix in {".xlsx", ".xlsm"}:
        df = _read_xlsx(raw, file, sheet, skiprows, required + optional, limits, found)
    elif suffix == ".xls":
        df = _read_xls(raw, file, sheet, skiprows, required + optional)
    else:
        text, found = decode_text(raw, file, encoding)
        nul = text.find("\x00")
        if nul >= 0:
            raise DataError(
                Problem(
                    file,
                    "caractère nul (octet 0) : ce fichier n'est pas un CSV texte",
                    row=text.count("\n", 0, nul) + 1,
                    suggestion="enregistrez-le depuis le tableur au format « CSV UTF-8 »",
                )
            )
        df = _read_csv_text(text, file, separators, skiprows, required + optional, limits)
    if warnings is not None:
        warnings.extend(found)
    return _rename_expected(df, file, required, optional)


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index (0 → A, 26 → AA): how an adviser finds a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_problems(header: list[str], file: str, row: int, expected: Sequence[str], limits: ReadLimits) -> None:
    """Refuse a header wider than the limits, or naming an expected column twice (which one is meant?)."""
    if len(header) > limits.max_columns:
        raise DataError(
            Problem(
                file,
                f"{format_count(len(header))} colonnes : {format_count(limits.max_columns)} au plus",
                row=row,
                suggestion="supprimez les colonnes en trop (ou vérifiez le séparateur)",
            )
        )
    wanted = {normalise_name(e) for e in expected}
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        positions.setdefault(normalise_name(name), []).append(i)
    problems = [
        Problem(
            file,
            "colonne en double : " + " et ".join(f"« {header[i]} » (colonne {column_letter(i)})" for i in where),
            row=row,
            column=header[where[0]],
            suggestion="gardez une seule de ces colonnes : rien ne dit laquelle est la bonne",
        )
        for key, where in positions.items()
        if key and key in wanted and len(where) > 1
    ]
    if problems:
        raise DataError(problems)


def _too_many(file: str, row: int, what: str, limit: int) -> DataError:
    return DataError(
        Problem(
            file,
            f"trop de lignes{what} : plus de {format_count(limit)}",
            row=row,
            suggestion="un extrait ne contient que les structures du département ; supprimez les lignes en trop",
        )
    )


def _long_cell(file: str, row: int, column: str, length: int, limit: int) -> Problem:
    return Problem(
        file,
        f"cellule trop longue ({format_count(length)} caractères ; {format_count(limit)} au plus)",
        row=row,
        column=column,
        suggestion="un guillemet non fermé, ou un texte collé par erreur dans la cellule ?",
    )


_CSV_ERRORS = (
    (
        "field larger than field limit",
        "cellule de plus de 131\u202f072 caractères : un guillemet n'est sans doute pas fermé",
    ),
    (
        "line contains nul",
        "caractère nul dans la ligne : ce fichier n'est pas un CSV texte (classeur ou fichier binaire ?)",
    ),
    (
        "unexpected end of data",
        "fin du fichier au milieu d'une cellule entre guillemets : un guillemet n'est pas fermé",
    ),
    ("new-line character seen in unquoted field", "retour à la ligne inattendu dans une cellule sans guillemets"),
)


def _csv_error_text(exc: csv.Error) -> str:
    """French for the csv module's errors (its English text never reaches an adviser)."""
    text = str(exc).lower()
    for english, french in _CSV_ERRORS:
        if english in text:
            return french
    return "ligne illisible (guillemets ou séparateurs mal placés)"


def _read_csv_text(
    text: str, file: str, separators: str, skiprows: int, expected: Sequence[str], limits: ReadLimits | None = None
) -> pd.DataFrame:
    limits = limits or ReadLimits()
    lines = text.splitlines(keepends=True)
    body = "".join(lines[skiprows:])
    if not body.strip():
        raise DataError(Problem(file, "fichier vide après l'en-tête"))
    header_line = body.splitlines()[0]
    sep = _sniff_separator(header_line[:100_000], separators, expected)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=sep, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(Problem(file, "fichier vide")) from None
    except csv.Error as exc:
        raise DataError(Problem(file, f"CSV illisible : {_csv_error_text(exc)}", row=skiprows + 1)) from None
    header = [h.replace("\ufeff", "").strip() for h in header]
    # Some official files end every line with the separator (FRR list): an unnamed, empty last column.
    trailing_empty = bool(header) and header[-1] == ""
    if trailing_empty:
        header = header[:-1]
    _header_problems(header, file, skiprows + 1, expected, limits)
    names = _dedupe(header)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    problems: list[Problem] = []
    # A record starts on the physical line after the last one read (quoted fields may span several lines).
    previous_end = reader.line_num
    for record in _iter_records(reader, file, skiprows):
        start = skiprows + previous_end + 1
        previous_end = reader.line_num
        if limits.max_lines is not None and start > limits.max_lines:
            raise _too_many(file, start, " (vides comprises)", limits.max_lines)
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
            for k, field_text in enumerate(fields):
                if len(field_text) > limits.max_cell_chars:
                    problems.append(_long_cell(file, start, names[k], len(field_text), limits.max_cell_chars))
            rows.append([f.strip() for f in fields])
            line_numbers.append(start)
            if limits.max_rows is not None and len(rows) > limits.max_rows:
                raise _too_many(file, start, " de données", limits.max_rows)
        if len(problems) >= 20:
            break
    if problems:
        raise DataError(problems)
    if not rows:
        raise DataError(Problem(file, "aucune ligne de données après l'en-tête", row=skiprows + 1))
    if not text.endswith(("\n", "\r")) and len(rows[-1]) == len(header) and _looks_cut(rows[-1]):
        raise DataError(Problem(file, "la dernière ligne semble coupée (fichier tronqué)", row=line_numbers[-1]))
    df = pd.DataFrame(rows, columns=names, dtype=object)
    df[LINE] = line_numbers
    return df


def _looks_cut(fields: list[str]) -> bool:
    # A file cut mid-line without a final newline usually ends on an empty or half-written last field.
    return fields[-1] == ""


def _iter_records(reader: _csv.Reader, file: str, skiprows: int = 0) -> Iterable[list[str]]:
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(
                Problem(file, f"CSV illisible : {_csv_error_text(exc)}", row=skiprows + reader.line_num)
            ) from None


def _dedupe(names: list[str]) -> list[str]:
    """Unique column names: a repeated or empty header is named after its column letter (« Remarque (colonne F) »)."""
    seen: set[str] = set()
    out = []
    for i, n in enumerate(names):
        if not n:
            name = f"(sans en-tête, colonne {column_letter(i)})"
        elif n in seen:
            name = f"{n} (colonne {column_letter(i)})"
        else:
            name = n
        seen.add(name)
        out.append(name)
    return out


def _read_xlsx(
    raw: bytes,
    file: str,
    sheet: str | int | None,
    skiprows: int,
    expected: Sequence[str],
    limits: ReadLimits,
    warnings: list[Problem],
) -> pd.DataFrame:
    """Read one sheet lazily (openpyxl read-only), stopping at the limits and after a long run of empty rows.

    Why not ``pandas.read_excel``: it materialises every row the sheet declares, a million formatted empty rows
    included, before anything can be checked.
    """
    import zipfile

    from openpyxl import load_workbook

    if limits.max_unzipped_bytes is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                unzipped = sum(item.file_size for item in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise DataError(Problem(file, "classeur Excel illisible ou tronqué (archive ZIP invalide)")) from None
        if unzipped > limits.max_unzipped_bytes:
            raise DataError(
                Problem(
                    file,
                    f"classeur trop volumineux une fois décompressé ({_megabytes(unzipped)} Mo ; maximum "
                    f"{_megabytes(limits.max_unzipped_bytes, limit=True)} Mo)",
                    suggestion="supprimez les lignes, colonnes ou feuilles en trop (mises en forme comprises)",
                )
            )
    try:
        raw, undeclared = _declare_dimensions(raw)
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # zipfile/openpyxl raise many types for a corrupt workbook
        raise DataError(Problem(file, f"classeur Excel illisible ou tronqué ({type(exc).__name__})")) from None
    try:
        try:
            if sheet is None:
                worksheet = workbook.worksheets[0]
            elif isinstance(sheet, int):
                worksheet = workbook.worksheets[sheet]
            else:
                worksheet = workbook[sheet]
        except (IndexError, KeyError):
            raise DataError(Problem(file, f"feuille « {sheet} » absente du classeur")) from None
        declared = None if undeclared else worksheet.max_row
        worksheet.reset_dimensions()  # rows as written, not padded to the declared (possibly huge) size
        return _sheet_table(worksheet.iter_rows(values_only=True), file, skiprows, expected, limits, warnings, declared)
    except DataError:
        raise
    except Exception as exc:  # a damaged sheet inside a valid zip
        raise DataError(Problem(file, f"classeur Excel illisible ou tronqué ({type(exc).__name__})")) from None
    finally:
        workbook.close()


_SHEET_ENTRY = re.compile(r"^xl/worksheets/[^/]+\.xml$")


def _declare_dimensions(raw: bytes) -> tuple[bytes, bool]:
    """The workbook with a ``<dimension>`` tag in every sheet lacking one; whether one was added.

    Why: when a sheet has no ``<dimension>`` (some generators omit it), openpyxl's read-only mode parses the whole
    sheet just to look for it, before the first row is read — a whole pass over what may be millions of formatted
    empty rows, at every read. With a tag placed before ``<sheetData>`` it stops at once; the rows are then read
    lazily without the declared size (``reset_dimensions``). The sheet is copied in chunks: memory stays bounded.
    """
    import zipfile

    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        heads = {}
        for item in source.infolist():
            if _SHEET_ENTRY.match(item.filename):
                with source.open(item) as stream:
                    head = stream.read(1 << 16)
                data_at = head.find(b"<sheetData")
                if data_at >= 0 and b"<dimension" not in head[:data_at]:
                    heads[item.filename] = data_at
        if not heads:
            return raw, False
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for item in source.infolist():
                with source.open(item) as stream, target.open(item.filename, "w", force_zip64=True) as sink:
                    if item.filename in heads:
                        head = stream.read(heads[item.filename])
                        sink.write(head + b'<dimension ref="A1"/>')
                    while chunk := stream.read(1 << 20):
                        sink.write(chunk)
    return out.getvalue(), True


def _sheet_table(
    rows: Iterable[Sequence[object]],
    file: str,
    skiprows: int,
    expected: Sequence[str],
    limits: ReadLimits,
    warnings: list[Problem],
    declared: int | None,
) -> pd.DataFrame:
    header: list[str] | None = None
    data: list[list[str]] = []
    line_numbers: list[int] = []
    problems: list[Problem] = []
    empty_run = 0
    line = 0
    stopped_at = 0
    for values in rows:
        line += 1
        if line <= skiprows:
            continue
        if limits.max_lines is not None and line > limits.max_lines:
            raise _too_many(file, line, " (vides comprises)", limits.max_lines)
        if len(values) > limits.max_columns and any(v not in (None, "") for v in values[limits.max_columns :]):
            raise DataError(
                Problem(
                    file,
                    f"cellule remplie au-delà de la colonne {column_letter(limits.max_columns - 1)} "
                    f"({format_count(limits.max_columns)} colonnes au plus)",
                    row=line,
                    suggestion="supprimez les colonnes en trop",
                )
            )
        cells = [_excel_cell_to_str(v) for v in values[: limits.max_columns]]
        if not any(cells):
            empty_run += 1
            if header is not None and empty_run >= limits.empty_run:
                stopped_at = line
                break
            continue
        empty_run = 0
        if header is None:
            while cells and not cells[-1]:
                cells.pop()
            header = [c.strip() for c in cells]
            _header_problems(header, file, line, expected, limits)
            continue
        for k, cell in enumerate(cells):
            if len(cell) > limits.max_cell_chars:
                name = header[k] if k < len(header) and header[k] else column_letter(k)
                problems.append(_long_cell(file, line, name, len(cell), limits.max_cell_chars))
        data.append(cells)
        line_numbers.append(line)
        if limits.max_rows is not None and len(data) > limits.max_rows:
            raise _too_many(file, line, " de données", limits.max_rows)
        if len(problems) >= 20:
            break
    if problems:
        raise DataError(problems)
    if header is None or not data:
        raise DataError(Problem(file, "aucune ligne de données dans la feuille", row=skiprows + 1))
    if stopped_at and (declared is None or declared > stopped_at):
        warnings.append(
            Problem(
                file,
                f"lecture arrêtée après {format_count(limits.empty_run)} lignes vides de suite : la feuille "
                f"{'déclare ' + format_count(declared) + ' lignes' if declared else 'continue'}, la suite est ignorée",
                row=stopped_at,
                suggestion="supprimez les lignes vides ou mises en forme sous les données",
                severity="avertissement",
            )
        )
    width = max(len(header), *(len(row) for row in data))
    header = header + [""] * (width - len(header))
    df = pd.DataFrame([row + [""] * (width - len(row)) for row in data], columns=_dedupe(header), dtype=object)
    df[LINE] = line_numbers
    return df


def _read_xls(raw: bytes, file: str, sheet: str | int | None, skiprows: int, expected: Sequence[str]) -> pd.DataFrame:
    """Old Excel format (public files only): read with xlrd through pandas."""
    try:
        df = pd.read_excel(
            io.BytesIO(raw), sheet_name=0 if sheet is None else sheet, skiprows=skiprows, dtype=object, engine="xlrd"
        )
    except ValueError as exc:
        raise DataError(Problem(file, f"classeur illisible : {exc}")) from None
    except Exception as exc:  # xlrd errors: corrupt or truncated workbook
        raise DataError(Problem(file, f"classeur Excel illisible ou tronqué ({type(exc).__name__})")) from None
    header = [str(c).strip() for c in df.columns]
    _header_problems(header, file, skiprows + 1, expected, ReadLimits())
    df.columns = _dedupe(header)
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
    if isinstance(value, pd.Timestamp | datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
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
        number = parse_number(text)
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
        for i in np.flatnonzero(dup.to_numpy()).tolist():
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
