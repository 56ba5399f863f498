"""The templates as files for the Caf's advisers: blank CSV and XLSX (with a help sheet), filled examples."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from geodata.caf.templates import TEMPLATES, Template

# ---------------------------------------------------------------------------------------------------------------
# Writing templates (blank CSV/XLSX, filled examples) and the catalogue entries
# ---------------------------------------------------------------------------------------------------------------


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    r"""Write a CAF-style CSV: ``;`` separator, UTF-8 with BOM (so Excel shows the accents), ``\r\n`` lines."""
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(headers)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def write_xlsx(
    path: Path, headers: Sequence[str], rows: Sequence[Sequence[str]] = (), help_sheet: Template | None = None
) -> Path:
    """Write a template workbook: data on the first sheet (what the importer reads), column help on a second one."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Données"
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for i, name in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(14, len(name) + 4)
    if help_sheet is not None:
        aide = wb.create_sheet("Aide")
        aide.append(["Colonne", "Obligatoire", "Contenu", "Exemple"])
        for column in help_sheet.columns:
            mandatory = "oui" if column.mandatory else "non"
            allowed = f" Valeurs : {' ; '.join(column.choices)}." if column.choices else ""
            aide.append([column.name, mandatory, column.description + "." + allowed, column.example])
    wb.save(path)
    return path


def write_templates(dest: Path) -> list[Path]:
    """Write, for each template, a blank CSV, a blank XLSX and a filled example CSV (``docs/templates``)."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for template in TEMPLATES:
        written.append(write_csv(dest / f"{template.id}.csv", template.headers, []))
        written.append(write_xlsx(dest / f"{template.id}.xlsx", template.headers, help_sheet=template))
        written.append(write_csv(dest / f"{template.id}_exemple.csv", template.headers, template.example_rows))
    return written
