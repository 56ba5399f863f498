"""``ctg-carto data fetch``: download the official files that have a stable URL into the sources directory.

Each file lands at ``dest/<directory of the source's first file pattern>/<file name>`` so that
``Source.find(dest)`` finds it. A file already present is kept when it matches ``Source.sha256`` (or when no checksum
is pinned); downloads go to a temporary file renamed only once complete and checked, so an interrupted or refused
download never replaces a good file. One failed source never stops the others: each gets a :class:`FetchResult`
with a French message (HTTP status, HTML page instead of data, checksum mismatch, unreachable server).

urllib only: no extra dependency, and a mirror (local directory or base URL laid out like ``dest``) can replace the
publishers' servers on machines without Internet access.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geodata.catalogue_types import Source
from geodata.filecheck import looks_like_html

STATUS_DOWNLOADED = "téléchargé"
STATUS_CACHED = "déjà présent"
STATUS_FAILED = "échec"
STATUS_NO_URL = "pas de téléchargement"

USER_AGENT = "ctg-carto (cartographie CTG, Caf des Pyrénées-Orientales)"
_CHUNK = 1 << 16
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class FetchResult:
    """Outcome of one file of one source."""

    source_id: str
    url: str
    path: Path | None
    status: str
    message: str = ""
    sha256: str = ""

    @property
    def ok(self) -> bool:
        """True when the file is present and valid after the run."""
        return self.status in {STATUS_DOWNLOADED, STATUS_CACHED}

    def __str__(self) -> str:
        where = str(self.path) if self.path else self.url
        return f"{self.source_id} : {self.status} — {where}" + (f" ({self.message})" if self.message else "")


def target_directory(source: Source) -> PurePosixPath:
    """Literal directory prefix of the source's first file pattern (``caf_data/**/x*.csv`` → ``caf_data``)."""
    parts = []
    for part in PurePosixPath(source.file_patterns[0]).parent.parts if source.file_patterns else ():
        if _GLOB_CHARS.search(part):
            break
        parts.append(part)
    return PurePosixPath(*parts) if parts else PurePosixPath()


def download_name(url: str) -> str:
    """File name for a download URL: ``<dataset>.csv`` for an Opendatasoft export, else the last path segment."""
    path = urllib.parse.urlparse(url).path
    match = re.search(r"/datasets/([^/]+)/exports/(csv|json|geojson|xlsx)/?$", path)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    name = urllib.parse.unquote(PurePosixPath(path).name)
    if not name:
        raise ValueError(f"impossible de déduire un nom de fichier de l'adresse {url}")
    return name


def download_urls(source: Source) -> list[str]:
    """Every URL to download for ``source``: its ``download_url`` then the other files of its family, if any."""
    from geodata.importers.official_formats import EXTRA_DOWNLOADS

    if not source.download_url:
        return []
    return [source.download_url, *EXTRA_DOWNLOADS.get(source.id, ())]


def fetch_sources(
    dest: Path,
    sources: Iterable[Source],
    mirror: str | Path | None = None,
    timeout: float = 30,
) -> list[FetchResult]:
    """Download every file of ``sources`` into ``dest`` (or copy it from ``mirror``); one result per file.

    Never raises for a failed download: the failure is in the result, and the other sources are still fetched.
    """
    results: list[FetchResult] = []
    for source in sources:
        urls = download_urls(source)
        if not urls:
            results.append(
                FetchResult(
                    source.id, "", None, STATUS_NO_URL, source.howto or "pas d'adresse de téléchargement stable"
                )
            )
            continue
        for index, url in enumerate(urls):
            expected = source.sha256.lower() if index == 0 else ""
            results.append(_fetch_one(dest, source, url, expected, mirror, timeout))
    return results


def _fetch_one(
    dest: Path, source: Source, url: str, expected: str, mirror: str | Path | None, timeout: float
) -> FetchResult:
    try:
        relative = target_directory(source) / download_name(url)
    except ValueError as exc:
        return FetchResult(source.id, url, None, STATUS_FAILED, str(exc))
    target = dest / relative
    if target.is_file():
        digest = sha256_file(target)
        if (not expected or digest == expected) and not _looks_like_html(target):
            return FetchResult(source.id, url, target, STATUS_CACHED, "", digest)
    origin = _origin(url, relative, mirror)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            error = _copy(origin, out, timeout)
        if error:
            return FetchResult(source.id, origin, None, STATUS_FAILED, error)
        if tmp.stat().st_size == 0:
            return FetchResult(source.id, origin, None, STATUS_FAILED, "fichier reçu vide")
        if _looks_like_html(tmp):
            return FetchResult(
                source.id,
                origin,
                None,
                STATUS_FAILED,
                "le serveur a renvoyé une page HTML au lieu des données (page d'erreur ou de connexion)",
            )
        digest = sha256_file(tmp)
        if expected and digest != expected:
            return FetchResult(
                source.id,
                origin,
                None,
                STATUS_FAILED,
                f"somme de contrôle SHA-256 différente : attendue {expected[:12]}…, reçue {digest[:12]}… "
                "(fichier modifié par l'éditeur ou téléchargement corrompu)",
                digest,
            )
        os.replace(tmp, target)
        return FetchResult(source.id, origin, target, STATUS_DOWNLOADED, "", digest)
    finally:
        tmp.unlink(missing_ok=True)


def _origin(url: str, relative: PurePosixPath, mirror: str | Path | None) -> str:
    if mirror is None:
        return url
    text = str(mirror)
    if re.match(r"^https?://", text):
        return text.rstrip("/") + "/" + urllib.parse.quote(str(relative))
    return str(Path(mirror) / relative)


def _copy(origin: str, out: object, timeout: float) -> str:
    """Copy ``origin`` (http(s) URL or local path) into ``out``; return a French error message, or "" on success."""
    if not re.match(r"^https?://", origin):
        source = Path(origin)
        if not source.is_file():
            return f"fichier absent du miroir : {source}"
        with source.open("rb") as fh:
            shutil.copyfileobj(fh, out, _CHUNK)  # type: ignore[arg-type]
        return ""
    request = urllib.request.Request(origin, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            if "text/html" in content_type.lower():
                return "le serveur a renvoyé une page HTML au lieu des données (page d'erreur ou de connexion)"
            shutil.copyfileobj(response, out, _CHUNK)  # type: ignore[arg-type]
    except urllib.error.HTTPError as exc:
        return f"erreur HTTP {exc.code} ({exc.reason}) sur {origin}"
    except urllib.error.URLError as exc:
        return f"serveur injoignable ({exc.reason}) : {origin}"
    except TimeoutError:
        return f"délai dépassé ({timeout:g} s) : {origin}"
    except OSError as exc:
        return f"téléchargement interrompu ({exc}) : {origin}"
    return ""


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as fh:
        return looks_like_html(fh.read(2048))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read by chunks (national files are large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def format_results(results: list[FetchResult]) -> str:
    """French summary for the CLI: one line per file, then the count of failures."""
    lines = [str(r) for r in results]
    failed = sum(r.status == STATUS_FAILED for r in results)
    lines.append(f"{len(results) - failed} fichier(s) disponibles, {failed} échec(s)")
    return "\n".join(lines)
