"""A corpus of malformed CAF extracts, as a careless user or an attacker would send them.

Each file is generated here (in a temporary directory) and goes through the two doors a file has: the upload of the
« Données » page (staged, validated, never committed when refused) and a build from the CAF directory (``ctg-carto
data build`` / the rebuild child). Each case asserts its outcome — refused (blocking error) or warned (kept, with a
warning) — its French message with the line and column when there is one, that no English library text leaks, and
for a refusal that the bundle and the CAF directory are untouched.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook

from geodata import caf
from geodata.build import build_bundle
from geodata.bundle import load_bundle
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext
from geodata.rebuild import current_version
from geodata.settings import Settings
from geodata.upload import UploadLimits, commit_staged

EAJE_ROWS = [list(r) for r in caf.EAJE.example_rows]
ALSH_ROWS = [list(r) for r in caf.ALSH.example_rows]
CTG_ROWS = [list(r) for r in caf.CTG.example_rows]
ENGLISH = re.compile(r"Error|error|field larger|Traceback|Unnamed|\binvalid\b|line contains|unexpected|\.1\b")


def csv_bytes(headers: list[str], rows: list[list[str]], encoding: str = "utf-8-sig", sep: str = ";") -> bytes:
    lines = [sep.join(headers), *(sep.join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def eaje(change: Callable[[list[list[str]]], None] | None = None, headers: list[str] | None = None, **kw) -> bytes:
    rows = [list(r) for r in EAJE_ROWS]
    if change:
        change(rows)
    return csv_bytes(headers or caf.EAJE.headers, rows, **kw)


def cell(template: caf.Template, rows_source: list[list[str]], row: int, column: str, value: str) -> bytes:
    rows = [list(r) for r in rows_source]
    rows[row][template.headers.index(column)] = value
    return csv_bytes(template.headers, rows)


def places(value: str, row: int = 0) -> bytes:
    return cell(caf.EAJE, EAJE_ROWS, row, "Places", value)


def xlsx(headers: list[str], rows: list[list[object]], empty_rows: int = 0, dimension: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    if not empty_rows:
        return buffer.getvalue()
    # Rows formatted but empty, as Excel writes them: <row r="n" s="1" customFormat="1"/>, declared in <dimension>.
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    sheet = source.read("xl/worksheets/sheet1.xml").decode()
    first = len(rows) + 2
    extra = "".join(f'<row r="{i}" s="1" customFormat="1" ht="15"/>' for i in range(first, first + empty_rows))
    sheet = sheet.replace("</sheetData>", extra + "</sheetData>")
    declared = f'<dimension ref="A1:XFD{first + empty_rows - 1}"/>' if dimension else ""
    sheet = re.sub(r'<dimension ref="[^"]*"/>', declared, sheet)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = sheet if item.filename == "xl/worksheets/sheet1.xml" else source.read(item.filename)
            target.writestr(item, data)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    name: str
    file: str
    content: Callable[[], bytes]
    outcome: str  # "refusé" | "averti" | "accepté" (odd but harmless: read as meant, nothing to say)
    message: str  # regular expression, French
    row: int | None = None
    column: str | None = None


def _dup_id(value: str) -> Callable[[], bytes]:
    return lambda: cell(caf.EAJE, EAJE_ROWS, 1, "Identifiant", value)


def _rows(n: int) -> bytes:
    row = EAJE_ROWS[0]
    rows = [[f"E{i}", *row[1:]] for i in range(n)]
    return csv_bytes(caf.EAJE.headers, rows)


CASES = [
    # --- impossible numbers (blocking, with the bound) --------------------------------------------------------
    Case(
        "places 1e20",
        "eaje_a.csv",
        lambda: places("1e20"),
        "refusé",
        r"1e20 hors limites.*entre 0 et 1\u202f000",
        2,
        "Places",
    ),
    Case(
        "places 99 999 999",
        "eaje_a.csv",
        lambda: places("99 999 999"),
        "refusé",
        r"hors limites.*1\u202f000",
        2,
        "Places",
    ),
    Case("places 1001", "eaje_a.csv", lambda: places("1001"), "refusé", r"1001 hors limites", 2, "Places"),
    Case("places 1e400 (infini)", "eaje_a.csv", lambda: places("1e400"), "refusé", "hors limites", 2, "Places"),
    Case("places négatives", "eaje_a.csv", lambda: places("-5"), "refusé", "nombre de places négatif", 2, "Places"),
    Case("places décimales", "eaje_a.csv", lambda: places("12,5"), "refusé", "pas un nombre entier", 2, "Places"),
    Case("places texte", "eaje_a.csv", lambda: places("beaucoup"), "refusé", "n'est pas un nombre", 2, "Places"),
    Case("places nan", "eaje_a.csv", lambda: places("nan"), "refusé", "n'est pas un nombre", 2, "Places"),
    Case(
        "ALSH 6 000 places",
        "alsh_a.csv",
        lambda: cell(caf.ALSH, ALSH_ROWS, 0, "Places vacances", "6000"),
        "refusé",
        r"hors limites.*5\u202f000",
        2,
        "Places vacances",
    ),
    Case(
        "longitude 500",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Longitude", "500"),
        "refusé",
        "coordonnées impossibles.*−180 et 180",
        2,
        "Longitude",
    ),
    Case(
        "latitude 95",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Latitude", "95"),
        "refusé",
        "coordonnées impossibles.*−90 et 90",
        2,
        "Latitude",
    ),
    Case(
        "coordonnées Lambert-93",
        "eaje_a.csv",
        lambda: eaje(lambda r: r[0].__setitem__(9, "692000") or r[0].__setitem__(10, "6175000")),
        "refusé",
        "Lambert-93",
        2,
        "Longitude",
    ),
    Case(
        "longitude et latitude inversées",
        "eaje_a.csv",
        lambda: eaje(lambda r: r[0].__setitem__(9, "42,6986") or r[0].__setitem__(10, "2,8954")),
        "refusé",
        "inversées|hors du département",
        2,
        "Longitude",
    ),
    Case(
        "date d'extraction 2150",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Date d'extraction", "31/12/2150"),
        "refusé",
        "hors limites.*31/12/2099",
        2,
        "Date d'extraction",
    ),
    Case(
        "date impossible 32/13",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Date d'extraction", "32/13/2025"),
        "refusé",
        "n'est pas une date",
        2,
        "Date d'extraction",
    ),
    Case(
        "CTG signée en 1999",
        "ctg_a.csv",
        lambda: cell(caf.CTG, CTG_ROWS, 0, "Date de signature", "15/06/1999"),
        "refusé",
        "hors limites.*01/01/2000",
        2,
        "Date de signature",
    ),
    # --- suspicious but possible (warning, kept) ------------------------------------------------------------------
    Case("places 200", "eaje_a.csv", lambda: places("200"), "averti", "inhabituelle.*supérieure à 150", 2, "Places"),
    Case("places 0", "eaje_a.csv", lambda: places("0"), "averti", "inhabituelle.*inférieure à 1", 2, "Places"),
    Case("micro-crèche de 20 places", "eaje_a.csv", lambda: places("20", row=1), "averti", "12 au plus", 3, "Places"),
    Case(
        "ALSH 700 places",
        "alsh_a.csv",
        lambda: cell(caf.ALSH, ALSH_ROWS, 0, "Places mercredi", "700"),
        "averti",
        "supérieure à 600",
        2,
        "Places mercredi",
    ),
    Case(
        "extrait de 2005",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Date d'extraction", "01/01/2005"),
        "averti",
        "inférieure à 01/01/2015",
        2,
        "Date d'extraction",
    ),
    Case(
        "extrait daté du futur",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Date d'extraction", "01/01/2098"),
        "averti",
        "dans le futur",
        2,
        "Date d'extraction",
    ),
    Case(
        "CTG finissant en 2060",
        "ctg_a.csv",
        lambda: cell(caf.CTG, CTG_ROWS, 0, "Date de fin", "31/12/2060"),
        "averti",
        "supérieure à 31/12/2040",
        2,
        "Date de fin",
    ),
    # --- identifiers and headers ------------------------------------------------------------------------------------
    Case(
        "identifiant avec trait d'union U+2010",
        "eaje_a.csv",
        _dup_id("EAJE\u20100001"),
        "refusé",
        "en double.*même identifiant que « EAJE-0001 »",
        3,
        "Identifiant",
    ),
    Case(
        "identifiant pleine chasse", "eaje_a.csv", _dup_id("ＥＡＪＥ-０００１"), "refusé", "en double", 3, "Identifiant"
    ),
    Case(
        "identifiant + espace de largeur nulle",
        "eaje_a.csv",
        _dup_id("EAJE-0001\u200b"),
        "refusé",
        "en double",
        3,
        "Identifiant",
    ),
    Case("identifiant en minuscules", "eaje_a.csv", _dup_id("eaje-0001"), "refusé", "en double", 3, "Identifiant"),
    Case(
        "identifiant invisible",
        "eaje_a.csv",
        _dup_id("\u200b\u200b"),
        "refusé",
        "caractères invisibles",
        3,
        "Identifiant",
    ),
    Case(
        "colonne Places en double",
        "eaje_a.csv",
        lambda: eaje(lambda r: [x.append("7") for x in r], headers=[*caf.EAJE.headers, "places"]),
        "refusé",
        r"colonne en double : « Places » \(colonne G\) et « places » \(colonne M\)",
        1,
        "Places",
    ),
    Case(
        "colonne obligatoire absente",
        "eaje_a.csv",
        lambda: csv_bytes([h for h in caf.EAJE.headers if h != "PSU"], [r[:7] + r[8:] for r in EAJE_ROWS]),
        "refusé",
        "colonne obligatoire absente",
        1,
        "PSU",
    ),
    Case(
        "colonne inconnue",
        "eaje_a.csv",
        lambda: eaje(lambda r: [x.append("?") for x in r], headers=[*caf.EAJE.headers, "Remarque"]),
        "averti",
        "colonne inconnue",
        1,
        "Remarque",
    ),
    # --- encodings and structure ------------------------------------------------------------------------------------
    Case("UTF-16 (Texte Unicode d'Excel)", "eaje_a.csv", lambda: eaje(encoding="utf-16", sep="\t"), "averti", "UTF-16"),
    Case("UTF-16 sans BOM", "eaje_a.csv", lambda: eaje(encoding="utf-16-le", sep="\t"), "averti", "UTF-16"),
    Case("Windows-1252", "eaje_a.csv", lambda: eaje(encoding="cp1252"), "averti", "Windows-1252"),
    Case(
        "accents convertis deux fois",
        "eaje_a.csv",
        lambda: eaje().decode("utf-8").encode("utf-8").decode("latin-1").encode("utf-8"),
        "refusé",
        "accents mal encodés",
    ),
    Case(
        "cellule de 3 000 caractères",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Adresse", "x" * 3000),
        "refusé",
        r"cellule trop longue \(3\u202f000 caractères ; 2\u202f000 au plus\)",
        2,
        "Adresse",
    ),
    Case(
        "guillemet non fermé (champ géant)",
        "eaje_a.csv",
        lambda: eaje(lambda r: r[0].__setitem__(4, '"' + "y" * 200_000)),
        "refusé",
        "guillemet n'est sans doute pas fermé|guillemet n'est pas fermé",
    ),
    Case(
        "octet nul",
        "eaje_a.csv",
        lambda: eaje() + b"EAJE-9;x\x00y;66136\r\n",
        "refusé",
        "contenu binaire|caractère nul",
    ),
    Case(
        "ligne tronquée",
        "eaje_a.csv",
        lambda: eaje() + b"EAJE-9;Nom;66136\r\n",
        "refusé",
        r"3 champ\(s\) au lieu de 12",
        6,
    ),
    Case(
        "page HTML",
        "eaje_a.csv",
        lambda: b"<!DOCTYPE html><html><body>Session expir\xc3\xa9e</body></html>",
        "refusé",
        "page HTML",
    ),
    Case("fichier vide", "eaje_a.csv", lambda: b"", "refusé", "fichier vide"),
    Case("en-têtes seuls", "eaje_a.csv", lambda: csv_bytes(caf.EAJE.headers, []), "refusé", "aucune ligne de données"),
    Case(
        "20 001 lignes",
        "eaje_a.csv",
        lambda: _rows(20_001),
        "refusé",
        r"trop de lignes de données : plus de 20\u202f000",
    ),
    Case(
        "101 colonnes",
        "eaje_a.csv",
        lambda: eaje(
            lambda r: [x.extend(["0"] * 89) for x in r], headers=[*caf.EAJE.headers, *(f"c{i}" for i in range(89))]
        ),
        "refusé",
        "101 colonnes : 100 au plus",
    ),
    Case("fichier de 11 Mo", "eaje_a.csv", lambda: eaje() + b" " * (11 * 1024 * 1024), "refusé", "trop volumineux"),
    Case("modèle inconnu", "budget.csv", lambda: b"poste;montant\r\nloyer;12\r\n", "refusé", "non reconnu"),
    # --- odd but meant: accepted as the adviser meant it ----------------------------------------------------------
    Case(
        "code commune en chiffres pleine chasse",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Code commune", "６６１３６"),
        "accepté",
        "",
    ),
    Case(
        "code commune avec une espace",
        "eaje_a.csv",
        lambda: cell(caf.EAJE, EAJE_ROWS, 0, "Code commune", "66 136"),
        "accepté",
        "",
    ),
    Case("places 40,0", "eaje_a.csv", lambda: places("40,0"), "accepté", ""),
    # --- Excel ------------------------------------------------------------------------------------------------------
    Case(
        "XLSX : 200 000 lignes vides mises en forme",
        "eaje_a.xlsx",
        lambda: xlsx(caf.EAJE.headers, EAJE_ROWS, empty_rows=200_000),
        "averti",
        r"lecture arrêtée après 1\u202f000 lignes vides.*200\u202f005 lignes",
    ),
    Case(
        "XLSX sans <dimension> : 200 000 lignes vides",
        "eaje_a.xlsx",
        lambda: xlsx(caf.EAJE.headers, EAJE_ROWS, empty_rows=200_000, dimension=False),
        "averti",
        r"lecture arrêtée après 1\u202f000 lignes vides.*la feuille continue",
    ),
    Case(
        "XLSX : places 1e20 en nombre",
        "eaje_a.xlsx",
        lambda: xlsx(caf.EAJE.headers, [[*EAJE_ROWS[0][:6], 1e20, *EAJE_ROWS[0][7:]]]),
        "refusé",
        "hors limites",
        2,
        "Places",
    ),
    Case(
        "XLSX : colonne en double",
        "eaje_a.xlsx",
        lambda: xlsx([*caf.EAJE.headers, "Places"], [[*EAJE_ROWS[0], 7]]),
        "refusé",
        r"colonne en double : « Places » \(colonne G\) et « Places » \(colonne M\)",
        1,
        "Places",
    ),
    Case(
        "XLSX tronqué", "eaje_a.xlsx", lambda: xlsx(caf.EAJE.headers, EAJE_ROWS)[:700], "refusé", "illisible ou tronqué"
    ),
    Case(
        "XLSX : faux classeur",
        "eaje_a.xlsx",
        lambda: b"Identifiant;Nom\r\n",
        "refusé",
        "pas un classeur Excel|illisible ou tronqué",
    ),
]


def data_url(content: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(content).decode()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, commune_base_66) -> tuple[Path, Path]:
    """A bundle built from the clean EAJE example: what every refused file must leave as it is."""
    root = tmp_path_factory.mktemp("corpus")
    caf_dir = root / "caf"
    caf_dir.mkdir()
    (caf_dir / "eaje_2025-03-31.csv").write_bytes(csv_bytes(caf.EAJE.headers, EAJE_ROWS))
    report = build_bundle(root / "bundle", "66", None, caf_dir)
    assert report.ok
    return root / "bundle", caf_dir


def _matching(problems: list[Problem], case: Case) -> list[Problem]:
    if case.outcome == "accepté":
        return []
    severity = "erreur" if case.outcome == "refusé" else "avertissement"
    return [p for p in problems if p.severity == severity and re.search(case.message, p.message)]


def _state(caf_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in caf_dir.iterdir() if p.is_file()}


def test_the_corpus_is_large_and_varied():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.outcome for c in CASES} == {"refusé", "averti", "accepté"}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_upload_refuses_or_warns_in_french_and_changes_nothing(
    case: Case, tmp_path: Path, import_ctx_66: ImportContext, deployed
):
    from dashboard.donnees.callbacks import process_upload

    bundle, caf_dir = deployed
    before_caf, before_version = _state(caf_dir), current_version(Settings(bundle=bundle))
    staging_root = tmp_path / "caf"
    outcome = process_upload([data_url(case.content())], [case.file], staging_root, import_ctx_66, UploadLimits())
    problems = list(outcome.problems)
    if case.outcome == "accepté":
        assert problems == [] and outcome.can_commit
    else:
        found = _matching(problems, case)
        assert found, [str(p) for p in problems]
        if case.row is not None:
            assert found[0].row == case.row, str(found[0])
        if case.column is not None:
            assert found[0].column == case.column, str(found[0])
    for p in problems:
        assert not ENGLISH.search(p.message + p.suggestion), str(p)
    if case.outcome == "refusé":
        assert not outcome.can_commit
        if outcome.token:
            with pytest.raises(DataError, match="non validé"):
                commit_staged(outcome.token, staging_root)
    else:
        assert outcome.can_commit, [str(p) for p in problems if p.severity == "erreur"]
    assert not [p for p in staging_root.glob("*") if p.is_file()]  # nothing reached the CAF directory
    assert _state(caf_dir) == before_caf and current_version(Settings(bundle=bundle)) == before_version


REFUSED_BY_NAME = [c for c in CASES if c.outcome == "refusé" and c.file != "budget.csv"]


@pytest.mark.parametrize("case", REFUSED_BY_NAME, ids=[c.name for c in REFUSED_BY_NAME])
def test_a_build_from_a_caf_directory_holding_the_file_leaves_the_bundle_untouched(
    case: Case, tmp_path: Path, deployed
):
    """The other door: a file dropped in the CAF directory by hand, then ``data build`` (or the rebuild child)."""
    bundle, _ = deployed
    settings = Settings(bundle=bundle)
    before = current_version(settings)
    drop = tmp_path / "caf"
    drop.mkdir()
    name = "eaje_2099-01-01" if case.file.startswith("eaje") else case.file.split("_")[0] + "_2099-01-01"
    (drop / (name + Path(case.file).suffix)).write_bytes(case.content())
    report = build_bundle(bundle, "66", None, drop)
    assert not report.ok
    assert any(re.search(case.message, p.message) for p in report.problems if p.severity == "erreur"), [
        str(p) for p in report.problems
    ]
    assert current_version(settings) == before
    table = load_bundle(bundle).layer("caf_eaje")
    assert table["places"].between(*caf.numeric_bounds("caf_eaje")["places"]).all() and len(table) == len(EAJE_ROWS)
