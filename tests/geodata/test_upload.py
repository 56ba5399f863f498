"""Upload of CAF extracts: limits, hostile names, HTML disguised as CSV, staged → validated → committed, archive."""

from __future__ import annotations

import base64
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from geodata import caf
from geodata.demo import write_demo_extract
from geodata.errors import DataError
from geodata.importers import ImportContext
from geodata.settings import PROJECT_ROOT
from geodata.upload import (
    ARCHIVE,
    STAGING,
    UploadLimits,
    commit_staged,
    decode_upload_contents,
    safe_name,
    save_upload,
    staged_files,
    validate_staged,
)

EXAMPLE = PROJECT_ROOT / "docs" / "templates" / "caf_eaje_exemple.csv"
TODAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def eaje_bytes() -> bytes:
    return EXAMPLE.read_bytes()


def _message(exc: pytest.ExceptionInfo[DataError]) -> str:
    return str(exc.value)


def _all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_decode_dcc_upload_contents():
    payload = "data:text/csv;base64," + base64.b64encode(b"a;b\r\n1;2\r\n").decode()
    assert decode_upload_contents(payload) == b"a;b\r\n1;2\r\n"
    with pytest.raises(DataError, match="base64 invalide"):
        decode_upload_contents("data:text/csv;base64,@@@")
    with pytest.raises(DataError, match="illisible"):
        decode_upload_contents("pas une URL de données")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("/etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\conseillere\\eaje mars.CSV", "eaje_mars.csv"),
        ("eaje.csv/../x", "x"),
        ("Crèches été 2025.xlsx", "Creches_ete_2025.xlsx"),
        ("..", ""),
        (".bashrc.csv", "bashrc.csv"),
    ],
)
def test_safe_name_drops_directories_dots_and_non_ascii(given, expected):
    assert safe_name(given) == expected


@pytest.mark.parametrize(
    ("hostile", "name"),
    [
        ("../../etc/passwd.csv", "eaje_2026-11-27.csv"),
        ("/etc/passwd.csv", "eaje_2026-11-27.csv"),
        ("..\\..\\windows\\eaje.csv", "eaje.csv"),
    ],
)
def test_traversal_names_stay_in_staging_and_get_the_canonical_name(tmp_path, eaje_bytes, hostile, name):
    caf_dir = tmp_path / "caf"
    path = save_upload(hostile, eaje_bytes, caf_dir, today=TODAY)
    # Recognised from its header as the EAJE template: renamed, written only under caf/.staging/<token>/.
    assert path.parent.parent == (caf_dir / STAGING).resolve()
    assert path.name == name
    assert path.read_bytes() == eaje_bytes
    assert _all_files(tmp_path) == {f"caf/{STAGING}/{path.parent.name}/{path.name}"}


def test_name_without_extension_after_stripping_is_refused(tmp_path, eaje_bytes):
    with pytest.raises(DataError, match="type de fichier refusé") as exc:
        save_upload("eaje.csv/../x", eaje_bytes, tmp_path / "caf")
    assert "sans extension" in _message(exc)
    assert not (tmp_path / "caf").exists()


def test_renaming_keeps_a_date_found_in_the_client_name(tmp_path, eaje_bytes):
    path = save_upload("export creches 2025-03-31.csv", eaje_bytes, tmp_path, today=TODAY)
    assert path.name == "eaje_2025-03-31.csv"
    # Already a template name: kept as it is.
    assert save_upload("eaje_mars.csv", eaje_bytes, tmp_path).name == "eaje_mars.csv"


def test_wrong_type_oversize_empty_and_too_many_rows_are_refused(tmp_path, eaje_bytes):
    caf_dir = tmp_path / "caf"
    with pytest.raises(DataError, match=r"type de fichier refusé \(« \.exe »\)"):
        save_upload("eaje.exe", eaje_bytes, caf_dir)
    with pytest.raises(DataError, match=r"trop volumineux \(0,0 Mo ; maximum 0 Mo\)"):
        save_upload("eaje.csv", eaje_bytes, caf_dir, UploadLimits(max_bytes=100))
    with pytest.raises(DataError, match="fichier vide"):
        save_upload("eaje.csv", b" \r\n", caf_dir)
    # The example has 4 data rows.
    with pytest.raises(DataError, match="trop de lignes"):
        save_upload("eaje.csv", eaje_bytes, caf_dir, UploadLimits(max_rows=3))
    assert save_upload("eaje.csv", eaje_bytes, caf_dir, UploadLimits(max_rows=4)).is_file()


def test_html_disguised_as_csv_binary_and_fake_xlsx_are_refused(tmp_path):
    caf_dir = tmp_path / "caf"
    login = b"\xef\xbb\xbf\r\n  <!DOCTYPE html><html><body>Session expir\xc3\xa9e</body></html>"
    with pytest.raises(DataError, match="page HTML"):
        save_upload("eaje.csv", login, caf_dir)
    with pytest.raises(DataError, match="page HTML"):
        save_upload("eaje.csv", b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">', caf_dir)
    with pytest.raises(DataError, match="page HTML"):
        save_upload("eaje.csv", b"Identifiant;Nom\r\n<HTML><body>Erreur 502</body></HTML>", caf_dir)
    header = ";".join(caf.EAJE.headers).encode()
    with pytest.raises(DataError, match="contenu binaire"):
        save_upload("eaje.csv", header + b"\r\n\x00\x01\x02\r\n", caf_dir)
    with pytest.raises(DataError, match="pas un classeur Excel"):
        save_upload("eaje.xlsx", header, caf_dir)
    with pytest.raises(DataError, match="classeur Excel illisible"):
        save_upload("eaje.xlsx", b"PK\x03\x04 tronque", caf_dir)
    assert _all_files(tmp_path) == set()


def test_html_inside_a_cell_is_kept_as_typed(tmp_path):
    """The documented examples hold « <b>…</b> » and « <script> » in names: the app escapes, the upload keeps them."""
    for template in ("caf_eaje", "caf_centres_sociaux"):
        example = (PROJECT_ROOT / "docs" / "templates" / f"{template}_exemple.csv").read_bytes()
        assert b"<" in example
        path = save_upload(f"{template}.csv", example, tmp_path, today=TODAY)
        assert path.read_bytes() == example


def test_unrecognised_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="modèle d'extrait Caf non reconnu"):
        save_upload("budget.csv", b"poste;montant\r\nloyer;12\r\n", tmp_path)


def test_xlsx_upload_is_recognised_by_its_header(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(caf.ALSH.headers)
    for row in caf.ALSH.example_rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    path = save_upload("loisirs.xlsx", buffer.getvalue(), tmp_path, today=TODAY)
    assert path.name == "alsh_2026-11-27.xlsx"
    with pytest.raises(DataError, match="trop de lignes"):
        save_upload("loisirs.xlsx", buffer.getvalue(), tmp_path, UploadLimits(max_rows=len(caf.ALSH.example_rows) - 1))


def test_staged_validated_committed_with_archive(tmp_path, import_ctx_66: ImportContext, eaje_bytes):
    caf_dir = tmp_path / "caf"
    old = write_demo_extract(caf_dir, import_ctx_66.communes)  # the current extract (eaje_demo.csv …)
    old_eaje = (caf_dir / "eaje_demo.csv").read_bytes()
    path = save_upload("creches.csv", eaje_bytes, caf_dir, today=TODAY)
    token = path.parent.name
    # A second file in the same batch, same template: replaces the first one in staging.
    path = save_upload("eaje_2025-03-31.csv", eaje_bytes, caf_dir, token=token)
    assert [p.name for p in staged_files(token, caf_dir)] == ["eaje_2025-03-31.csv"]

    with pytest.raises(DataError, match="non validé"):
        commit_staged(token, caf_dir)  # not validated yet
    problems = validate_staged(token, import_ctx_66, caf_dir)
    assert not [p for p in problems if p.severity == "erreur"]

    committed = commit_staged(token, caf_dir)
    assert committed == [(caf_dir / "eaje_2025-03-31.csv").resolve()]
    assert committed[0].read_bytes() == eaje_bytes
    assert not (caf_dir / "eaje_demo.csv").exists()  # replaced (Source.find would otherwise pick either)
    archived = list((caf_dir / ARCHIVE).rglob("eaje_demo.csv"))
    assert len(archived) == 1
    assert archived[0].read_bytes() == old_eaje
    # Other templates untouched, staging cleaned.
    assert all(p.exists() for p in old if not p.name.startswith("eaje"))
    assert not (caf_dir / STAGING / token).exists()
    assert caf.CAF_SOURCES[0].find(caf_dir) == committed[0]


def test_invalid_or_changed_batch_cannot_be_committed(tmp_path, import_ctx_66, eaje_bytes):
    caf_dir = tmp_path / "caf"
    bad = eaje_bytes.replace(b"66136;Perpignan", b"99999;Perpignan", 1)
    token = save_upload("eaje.csv", bad, caf_dir).parent.name
    problems = validate_staged(token, import_ctx_66, caf_dir)
    errors = [p for p in problems if p.severity == "erreur"]
    assert errors
    assert errors[0].row == 2
    assert errors[0].column == "Code commune"
    with pytest.raises(DataError, match="non validé"):
        commit_staged(token, caf_dir)
    # Validated, then changed on disk: refused too.
    token = save_upload("eaje.csv", eaje_bytes, caf_dir).parent.name
    assert not [p for p in validate_staged(token, import_ctx_66, caf_dir) if p.severity == "erreur"]
    staged_files(token, caf_dir)[0].write_bytes(bad)
    with pytest.raises(DataError, match="modifié"):
        commit_staged(token, caf_dir)
    assert not list(caf_dir.glob("eaje*.csv"))


@pytest.mark.parametrize("token", ["../..", "../x", "0123456789abcdeg", "", "/tmp"])
def test_hostile_tokens_are_refused(tmp_path, import_ctx_66, token):
    with pytest.raises(DataError, match="jeton"):
        validate_staged(token, import_ctx_66, tmp_path)
    with pytest.raises(DataError, match="jeton"):
        commit_staged(token, tmp_path)


def test_staging_symlink_out_of_caf_dir_is_refused(tmp_path, eaje_bytes):
    caf_dir = tmp_path / "caf"
    caf_dir.mkdir()
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (caf_dir / STAGING).symlink_to(outside)
    with pytest.raises(DataError, match="en dehors du dossier"):
        save_upload("eaje.csv", eaje_bytes, caf_dir)
    assert list(outside.iterdir()) == []
