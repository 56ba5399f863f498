"""``data fetch`` against a local HTTP server (127.0.0.1, a thread of the test): no other host is ever contacted."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from geodata.catalogue_types import Source
from geodata.fetch import (
    STATUS_CACHED,
    STATUS_DOWNLOADED,
    STATUS_FAILED,
    STATUS_NO_URL,
    download_name,
    download_urls,
    fetch_sources,
    format_results,
    target_directory,
)
from geodata.importers.official_formats import SOURCES

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "formats" / "caf_data" / "txcouv_pe_com.csv"
PAYLOAD = FIXTURE.read_bytes()
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 (shared log of the paths asked, read by the tests)

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.path.startswith("/html/"):
            body = b"<!DOCTYPE html><html><body>Maintenance</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # silence the server in test output
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("www")
    (root / "api").mkdir()
    (root / "api" / "txcouv_pe_com.csv").write_bytes(PAYLOAD)
    (root / "disguised.csv").write_bytes(b"\n<html><head><title>Connexion</title></head></html>")
    (root / "mirror" / "caf_data").mkdir(parents=True)
    (root / "mirror" / "caf_data" / "txcouv_pe_com.csv").write_bytes(PAYLOAD)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _source(url: str, sha256: str = "", source_id: str = "test_txcouv") -> Source:
    return Source(
        id=source_id,
        title="Taux de couverture (test)",
        publisher="test",
        dataset="txcouv_pe_com",
        vintage="2023",
        licence="Licence Ouverte",
        format="CSV",
        importer="geodata.importers.datacaf:import_caf_txcouv",
        file_patterns=("caf_data/**/txcouv_pe_*.csv", "**/txcouv_pe_*.csv"),
        download_url=url,
        sha256=sha256,
    )


def _leftovers(dest: Path) -> list[Path]:
    return [p for p in dest.rglob("*") if p.name.endswith(".part")]


def test_download_lands_where_find_looks_and_is_cached(server: str, tmp_path: Path) -> None:
    source = _source(f"{server}/api/txcouv_pe_com.csv", sha256=PAYLOAD_SHA)
    [result] = fetch_sources(tmp_path, [source])
    assert result.status == STATUS_DOWNLOADED, result.message
    assert result.path == tmp_path / "caf_data" / "txcouv_pe_com.csv"
    assert result.path.read_bytes() == PAYLOAD
    assert result.sha256 == PAYLOAD_SHA
    assert source.find(tmp_path) == result.path
    asked = len(_Handler.requests)
    [again] = fetch_sources(tmp_path, [source])
    assert again.status == STATUS_CACHED
    assert len(_Handler.requests) == asked  # the server was not asked again


def test_stale_cached_file_is_replaced_when_checksum_differs(server: str, tmp_path: Path) -> None:
    target = tmp_path / "caf_data" / "txcouv_pe_com.csv"
    target.parent.mkdir()
    target.write_bytes(b"annee;numcom\n2019;66136\n")
    [result] = fetch_sources(tmp_path, [_source(f"{server}/api/txcouv_pe_com.csv", sha256=PAYLOAD_SHA)])
    assert result.status == STATUS_DOWNLOADED
    assert target.read_bytes() == PAYLOAD


def test_checksum_mismatch_keeps_the_previous_file(server: str, tmp_path: Path) -> None:
    target = tmp_path / "caf_data" / "txcouv_pe_com.csv"
    target.parent.mkdir()
    target.write_bytes(b"ancien contenu\n")
    [result] = fetch_sources(tmp_path, [_source(f"{server}/api/txcouv_pe_com.csv", sha256="0" * 64)])
    assert result.status == STATUS_FAILED
    assert "SHA-256" in result.message
    assert target.read_bytes() == b"ancien contenu\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/absent.csv", "erreur HTTP 404"),
        ("/html/txcouv_pe_com.csv", "page HTML"),
        ("/disguised.csv", "page HTML"),  # HTML served as a CSV: caught by its content
    ],
)
def test_failures_are_reported_in_french_and_do_not_stop_the_others(
    server: str, tmp_path: Path, path: str, expected: str
) -> None:
    bad = _source(f"{server}{path}", source_id="mauvais")
    good = _source(f"{server}/api/txcouv_pe_com.csv", source_id="bon")
    results = fetch_sources(tmp_path, [bad, good])
    assert [r.status for r in results] == [STATUS_FAILED, STATUS_DOWNLOADED]
    assert expected in results[0].message
    assert results[0].path is None
    assert _leftovers(tmp_path) == []
    assert "1 échec(s)" in format_results(results)


def test_unreachable_server(tmp_path: Path) -> None:
    # Port 9 of the loopback (discard) is closed on CI machines: the connection is refused locally.
    [result] = fetch_sources(tmp_path, [_source("http://127.0.0.1:9/txcouv_pe_com.csv")], timeout=2)
    assert result.status == STATUS_FAILED
    assert "injoignable" in result.message or "interrompu" in result.message


def test_mirror_directory_and_mirror_url(server: str, tmp_path: Path) -> None:
    mirror = tmp_path / "miroir" / "caf_data"
    mirror.mkdir(parents=True)
    (mirror / "txcouv_pe_com.csv").write_bytes(PAYLOAD)
    # The publisher URL is never contacted when a mirror is given (this one would not even resolve).
    source = _source("https://data.caf.fr.invalid/api/explore/v2.1/catalog/datasets/txcouv_pe_com/exports/csv")
    [from_dir] = fetch_sources(tmp_path / "a", [source], mirror=tmp_path / "miroir")
    assert from_dir.status == STATUS_DOWNLOADED
    assert (tmp_path / "a" / "caf_data" / "txcouv_pe_com.csv").read_bytes() == PAYLOAD
    [from_url] = fetch_sources(tmp_path / "b", [source], mirror=f"{server}/mirror/")
    assert from_url.status == STATUS_DOWNLOADED, from_url.message
    assert from_url.url == f"{server}/mirror/caf_data/txcouv_pe_com.csv"
    [missing] = fetch_sources(tmp_path / "c", [replace(source, id="x")], mirror=tmp_path / "vide")
    assert missing.status == STATUS_FAILED
    assert "miroir" in missing.message


def test_source_without_url_is_listed_with_its_howto(tmp_path: Path) -> None:
    bpe = next(s for s in SOURCES if s.id == "bpe")
    [result] = fetch_sources(tmp_path, [bpe])
    assert result.status == STATUS_NO_URL
    assert "insee.fr" in result.message


def test_names_and_directories_of_catalogue_downloads(tmp_path: Path) -> None:
    url = "https://data.caf.fr/api/explore/v2.1/catalog/datasets/txcouv_pe_epci/exports/csv"
    assert download_name(url) == "txcouv_pe_epci.csv"
    assert download_name("https://example.org/fichiers/BPE24.csv?x=1") == "BPE24.csv"
    txcouv = next(s for s in SOURCES if s.id == "caf_txcouv")
    assert str(target_directory(txcouv)) == "caf_data"
    assert len(download_urls(txcouv)) == 4
    # Every file `data fetch` would write is found again by its source (the builder's path to the importer).
    for source in SOURCES:
        for url in download_urls(source):
            target = tmp_path / source.id / target_directory(source) / download_name(url)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x", encoding="utf-8")
        if source.download_url:
            assert source.find(tmp_path / source.id) is not None, source.id
