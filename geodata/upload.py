"""Upload of CAF extracts from the « Données » page: staged, validated, then committed into the CAF directory.

Why three steps: an adviser's file is untrusted input arriving over HTTP. It is first written to a private staging
directory (``<caf_dir>/.staging/<token>/``) under a safe name, then checked with the same validation as the build
(:func:`geodata.caf.check_caf_file`), and only a clean, unchanged file is moved into ``caf_dir`` — the file
it replaces is kept in ``<caf_dir>/.archive/<horodatage>/`` so nothing is ever lost. The bundle itself is only
rebuilt afterwards (:mod:`geodata.rebuild`).

Safety rules: the client's file name is never used as a path (directory parts, ``..``, non-ASCII characters are
dropped, and a file whose header matches a template is renamed to the template's canonical name
``<prefixe>_<AAAA-MM-JJ>.<ext>``); every written path is resolved and checked to stay inside ``caf_dir``; size, type,
HTML pages saved by mistake and row count are checked before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from geodata.caf import CAF_LIMITS, CAF_SOURCES, TEMPLATES, Template, check_caf_file, detect_template
from geodata.catalogue_types import Source
from geodata.errors import DataError, Problem
from geodata.filecheck import check_head
from geodata.importers import ImportContext
from geodata.readers import LINE, ReadLimits, megabytes, read_table_bytes, utf16_codec

STAGING = ".staging"
ARCHIVE = ".archive"
LOCK = ".verrou"
"""Lock file of the CAF directory (:func:`caf_dir_lock`)."""
VALIDATED = ".valide.json"
"""Written in a staging directory when every file in it passed validation (with their checksums)."""

STAGING_MAX_AGE_S = 24 * 3600
"""Staging directories older than this are abandoned uploads and are removed."""

_TOKEN = re.compile(r"^[0-9a-f]{16}$")
_DATE_IN_NAME = re.compile(r"(20\d{2})[-_]?(\d{2})[-_]?(\d{2})")
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be: size, file types and number of data rows (an extract of the département is far
    smaller; the limits only stop mistakes and abuse). Defaults: those of every CAF extract (:data:`CAF_LIMITS`)."""

    max_bytes: int = CAF_LIMITS.max_bytes or 0
    suffixes: tuple[str, ...] = (".csv", ".xlsx")
    max_rows: int = CAF_LIMITS.max_rows or 0

    def read_limits(self) -> ReadLimits:
        """The reader's limits for an upload: the CAF ones with this size and row count."""
        return replace(CAF_LIMITS, max_bytes=self.max_bytes, max_rows=self.max_rows)


TOO_LARGE = "fichier trop volumineux ({mo} Mo ; maximum {max_mo} Mo)"
"""Refusal of an oversize upload; ``{mo}`` is the file's size. The browser shows the same text for a file it does not
even send (``assets/upload-limits.js``)."""


def too_large_message(limits: UploadLimits) -> str:
    """:data:`TOO_LARGE` with the maximum filled in (``{mo}`` left for the file's size)."""
    return TOO_LARGE.replace("{max_mo}", megabytes(limits.max_bytes, limit=True))


@contextlib.contextmanager
def caf_dir_lock(caf_dir: Path) -> Iterator[None]:
    """Exclusive right to change the CAF directory (a commit, a restore), between workers and processes."""
    Path(caf_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(caf_dir) / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


SAVE_AS_CSV = "enregistrez l'extrait depuis le tableur au format « CSV UTF-8 (séparateur ; ) »"


def _refuse(name: str, message: str, suggestion: str = "") -> DataError:
    return DataError(Problem(name or "fichier", message, suggestion=suggestion))


def decode_upload_contents(contents: str, filename: str = "") -> bytes:
    """Bytes of a ``dcc.Upload`` value (``data:<type>;base64,<données>``).

    Raises:
        DataError: not a base64 data URL (French message naming the file).
    """
    if not isinstance(contents, str) or "," not in contents:
        raise _refuse(filename, "contenu du téléversement illisible (données absentes)")
    head, _, payload = contents.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise _refuse(filename, "contenu du téléversement illisible (encodage inattendu)")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(filename, "contenu du téléversement illisible (base64 invalide)") from None


def safe_name(filename: str) -> str:
    """ASCII-safe base name of a client file name: no directory part, no ``..``, no leading dot; may be empty."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base)
    base = re.sub(r"\.{2,}", ".", base).lstrip("._-")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        return base[:100]
    return f"{stem[:100]}.{suffix.lower()}"


def _source_of(template: Template) -> Source:
    return next(s for s in CAF_SOURCES if s.id == template.id)


def template_for_name(name: str) -> Template | None:
    """Template whose catalogue patterns (``eaje*.csv``…) match ``name``; None when none does."""
    for template in TEMPLATES:
        if any(fnmatch.fnmatch(name.lower(), p) for p in _source_of(template).file_patterns):
            return template
    return None


def _check_content(name: str, content: bytes, suffix: str, limits: UploadLimits) -> list[str]:
    """Refuse what is not a plausible extract; return the header of the first sheet or line.

    The file is read here with the same reader and limits as its validation (:data:`CAF_LIMITS`): size, rows,
    columns, cell length, empty rows, encoding (UTF-16 named), duplicated columns — before anything is written.
    """
    if not content.strip():
        check_head(content, name or "fichier")
    if len(content) > limits.max_bytes:
        size = megabytes(len(content))
        raise _refuse(
            name,
            too_large_message(limits).replace("{mo}", size),
            "un extrait de département tient en quelques centaines de kilo-octets : vérifiez le fichier",
        )
    if suffix == ".xlsx":
        if not content.startswith(_ZIP_MAGIC):
            raise _refuse(name, "ce fichier n'est pas un classeur Excel .xlsx", "enregistrez-le au format .xlsx ou CSV")
    else:
        # A web page saved instead of the extract (login or error page). HTML *inside* a cell is not refused:
        # cells are kept as typed and escaped by the app (see geodata.caf).
        check_head(content, name or "fichier", html_hint=SAVE_AS_CSV)
        binary = b"\x00" in content[:65536] and utf16_codec(content) is None
        if binary or content.startswith(_ZIP_MAGIC):
            raise _refuse(name, "ce fichier n'est pas un CSV (contenu binaire)", "enregistrez-le au format CSV")
    table = read_table_bytes(content, name, limits=limits.read_limits())
    return [c for c in table.columns if c != LINE]


def _inside(path: Path, root: Path) -> Path:
    """``path`` resolved, refused if it leaves ``root`` (a symlink or a crafted name)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise _refuse(path.name, "chemin refusé : en dehors du dossier des extraits Caf")
    return resolved


def staging_dir(token: str, caf_dir: Path) -> Path:
    """Staging directory of ``token`` (checked: 16 hexadecimal characters, inside ``caf_dir``)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise _refuse("", "jeton de téléversement invalide")
    caf_dir = Path(caf_dir)
    return _inside(caf_dir / STAGING / token, caf_dir)


def purge_staging(caf_dir: Path, max_age_s: float = STAGING_MAX_AGE_S) -> int:
    """Remove abandoned staging directories; returns how many were removed."""
    root = Path(caf_dir) / STAGING
    removed = 0
    if root.is_dir():
        for entry in root.iterdir():
            if entry.is_dir() and time.time() - entry.stat().st_mtime > max_age_s:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def save_upload(
    filename: str,
    content: bytes,
    caf_dir: Path,
    limits: UploadLimits | None = None,
    token: str | None = None,
    today: date | None = None,
) -> Path:
    """Check an uploaded file and write it, under a safe name, into ``<caf_dir>/.staging/<token>/``.

    The returned path's parent name is the token to pass to :func:`validate_staged` and :func:`commit_staged`;
    pass ``token`` to add several files (one per template) to the same batch. A file whose header matches a
    template but whose name does not is renamed ``<prefixe>_<date>.<ext>`` (date taken from the client's name, else
    today's).

    Raises:
        DataError: wrong type, oversize, empty, HTML, binary, too many rows, or unrecognised template (French).
    """
    limits = limits or UploadLimits()
    caf_dir = Path(caf_dir)
    name = safe_name(filename)
    shown = name or "fichier"
    suffix = Path(name).suffix.lower()
    if not name or suffix not in limits.suffixes:
        raise _refuse(
            shown,
            f"type de fichier refusé (« {suffix or 'sans extension'} »)",
            f"formats acceptés : {', '.join(limits.suffixes)}",
        )
    header = _check_content(shown, content, suffix, limits)
    template = detect_template(header, name) or template_for_name(name)
    if template is None:
        raise _refuse(
            shown,
            "modèle d'extrait Caf non reconnu (ni d'après les en-têtes, ni d'après le nom du fichier)",
            "partez d'un modèle vierge de docs/templates (voir docs/caf_extracts.md)",
        )
    if template_for_name(name) is not template:
        m = _DATE_IN_NAME.search(Path(name).stem)
        stamp = f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else (today or date.today()).isoformat()
        name = f"{template.stem}_{stamp}{suffix}"
    caf_dir.mkdir(parents=True, exist_ok=True)
    purge_staging(caf_dir)
    token = token or secrets.token_hex(8)
    directory = staging_dir(token, caf_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / VALIDATED).unlink(missing_ok=True)  # the batch changed: validate again
    for previous in directory.iterdir():
        if previous.is_file() and template_for_name(previous.name) is template:
            previous.unlink()  # one file per template in a batch: the latest upload wins
    target = _inside(directory / name, directory)
    target.write_bytes(content)
    return target


def staged_files(token: str, caf_dir: Path) -> list[Path]:
    """Files of a staging batch (sorted)."""
    directory = staging_dir(token, caf_dir)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validate_staged(token: str, ctx: ImportContext, caf_dir: Path) -> list[Problem]:
    """Every problem (errors and warnings) of every file of the batch; marks the batch valid when none blocks."""
    directory = staging_dir(token, caf_dir)
    files = staged_files(token, caf_dir)
    if not files:
        return [Problem("téléversement", "aucun fichier en attente pour ce téléversement", suggestion="recommencez")]
    problems: list[Problem] = []
    for path in files:
        problems.extend(check_caf_file(path, ctx))
    marker = directory / VALIDATED
    if any(p.severity == "erreur" for p in problems):
        marker.unlink(missing_ok=True)
    else:
        marker.write_text(json.dumps({p.name: _sha256(p) for p in files}), encoding="utf-8")
    return problems


def commit_staged(token: str, caf_dir: Path) -> list[Path]:
    """Move a validated batch into ``caf_dir``; each file replaces every file of the same template, which goes to
    ``<caf_dir>/.archive/<horodatage>/``. Returns the new paths in ``caf_dir``.

    Raises:
        DataError: batch not validated, or changed since its validation.
    """
    caf_dir = Path(caf_dir)
    directory = staging_dir(token, caf_dir)
    files = staged_files(token, caf_dir)
    marker = directory / VALIDATED
    try:
        validated = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        validated = None
    if not files or validated != {p.name: _sha256(p) for p in files}:
        raise _refuse(
            files[0].name if files else "téléversement",
            "fichier(s) non validé(s) ou modifié(s) depuis la validation",
            "lancez la vérification avant d'enregistrer",
        )
    archive = _inside(caf_dir / ARCHIVE / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"), caf_dir)
    committed: list[Path] = []
    with caf_dir_lock(caf_dir):
        for path in files:
            template = template_for_name(path.name)
            if template is None:  # cannot happen for files written by save_upload
                raise _refuse(path.name, "nom de fichier inattendu dans le téléversement")
            for pattern in _source_of(template).file_patterns:
                for old in sorted(caf_dir.glob(pattern)):
                    if old.is_file():
                        archive.mkdir(parents=True, exist_ok=True)
                        old.replace(archive / old.name)
            target = _inside(caf_dir / path.name, caf_dir)
            path.replace(target)
            committed.append(target)
    shutil.rmtree(directory, ignore_errors=True)
    return committed
