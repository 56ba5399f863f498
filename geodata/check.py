"""``ctg-carto data check``: validate input files without building anything."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from geodata.catalogue import all_sources
from geodata.catalogue_types import Source
from geodata.communes import load_commune_base
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext


def source_for(path: Path) -> Source | None:
    """The catalogue source whose file patterns match ``path``'s name (catalogue order), or None."""
    for source in all_sources():
        for pattern in source.file_patterns:
            if fnmatch.fnmatch(path.name, Path(pattern).name):
                return source
    return None


def check_path(path: Path, departement: str = "66") -> tuple[list[Problem], list[tuple[str, str]]]:
    """Run the matching importer on a file, or on every file of a directory tree.

    Returns every problem found (errors and warnings) and, per file, a status: ``ok``, ``erreur`` or ``inconnu``
    (no catalogue entry recognises the name). Why not stop at the first bad file: an adviser fixing an extract
    wants the whole list at once.
    """
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    base = load_commune_base(departement)
    ctx = ImportContext(departement=departement, communes=base.communes, extra_codes=base.extra_codes)
    problems: list[Problem] = []
    checked: list[tuple[str, str]] = []
    for file in files:
        if file.name.upper().startswith(("PROVENANCE", "DONNEES_FICTIVES", "LISEZMOI", "README")):
            continue
        source = source_for(file)
        if source is None:
            checked.append((str(file), "inconnu"))
            problems.append(
                Problem(
                    file.name,
                    "fichier non reconnu par le catalogue des sources",
                    severity="avertissement",
                    suggestion="vérifiez son nom (voir docs/caf_extracts.md et le catalogue des sources)",
                )
            )
            continue
        try:
            result = source.load_importer()(file, ctx)
        except DataError as exc:
            problems.extend(exc.problems)
            checked.append((str(file), "erreur"))
            continue
        problems.extend(result.warnings)
        checked.append((str(file), "ok"))
    return problems, checked
