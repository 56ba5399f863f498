"""The nginx configuration administrators copy (docs/deploiement/nginx-ctg-carto.conf) and the bench that runs it.

The scale-out bench (``python -m bench.run scaleout``) measures this very file; these tests keep it runnable by the
bench and keep the rules that protect the app: the editor header never comes from a client, only callbacks are
replayed as non-idempotent POSTs, uploads the app accepts are not cut by nginx first, only good geometry is cached.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from dashboard.web.auth import MAX_REQUEST_BYTES

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "docs" / "deploiement" / "nginx-ctg-carto.conf"


def _load_bench_nginx() -> object:
    # bench/ is not an installed package: load the module from its file (it imports nothing from the project).
    spec = importlib.util.spec_from_file_location("ctg_bench_nginx", ROOT / "bench" / "nginx.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench_nginx = _load_bench_nginx()


def _locations(text: str) -> dict[str, str]:
    """Body of each ``location`` block of the template (blocks are indented by four spaces, closed at column 4)."""
    return {
        m["name"].strip(): m["body"]
        for m in re.finditer(r"\n    location (?P<name>[^{]+)\{(?P<body>.*?)\n    \}", text, re.S)
    }


def _directives(text: str) -> list[str]:
    """Directive lines without comments."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def test_bench_renders_the_template_on_loopback_without_tls(tmp_path):
    text = bench_nginx.render_site(TEMPLATE.read_text(encoding="utf-8"), [41001, 41002], 41000, tmp_path)

    directives = _directives(text)
    assert "listen 127.0.0.1:41000;" in directives
    assert "server 127.0.0.1:41001 max_fails=1 fail_timeout=5s;" in directives
    assert "server 127.0.0.1:41002 max_fails=1 fail_timeout=5s;" in directives
    assert not [d for d in directives if "ssl" in d or "443" in d or "8051" in d or "8052" in d or "return 301" in d]
    assert f"access_log {tmp_path / 'access.log'} ctg_carto;" in directives
    assert text.count("server {") == 1


def test_bench_refuses_a_template_it_no_longer_understands(tmp_path):
    drifted = TEMPLATE.read_text(encoding="utf-8").replace("server 127.0.0.1:8052", "server 10.0.0.2:8050")

    with pytest.raises(ValueError, match=r"server 127\.0\.0\.1:8052.*0 fois"):
        bench_nginx.render_site(drifted, [41001, 41002], 41000, tmp_path)


def test_editor_header_is_always_cleared_and_never_set_in_a_location():
    text = TEMPLATE.read_text(encoding="utf-8")
    server_level = _directives(text.split("\n    location ", 1)[0])

    assert 'proxy_set_header X-Remote-User "";' in server_level
    assert "proxy_set_header If-None-Match $ctg_carto_if_none_match;" in server_level  # 304 again behind gzip
    for name, body in _locations(text).items():
        assert "proxy_set_header" not in body, f"location {name} would drop the server's proxy_set_header lines"


def test_only_dash_callbacks_are_replayed_as_non_idempotent_posts():
    locations = _locations(TEMPLATE.read_text(encoding="utf-8"))

    replayed = [name for name, body in locations.items() if "non_idempotent" in body]
    assert replayed == ["= /_dash-update-component"]
    assert "proxy_next_upstream error;" in _directives(locations["/export/"])


def test_uploads_the_app_accepts_pass_nginx():
    size = re.search(r"client_max_body_size (\d+)m;", TEMPLATE.read_text(encoding="utf-8"))

    assert size is not None
    assert int(size[1]) * 1024 * 1024 > MAX_REQUEST_BYTES


def test_geometry_cache_keeps_good_answers_only_and_text_is_compressed():
    text = TEMPLATE.read_text(encoding="utf-8")
    geo = _directives(_locations(text)["/geo/"])

    assert [d for d in geo if d.startswith("proxy_cache_valid")] == ["proxy_cache_valid 200 30d;"]
    types = " ".join(d for d in _directives(text) if d.startswith("gzip_types") or d.startswith("image/"))
    for mime in ("application/json", "application/geo+json", "application/javascript", "text/css"):
        assert mime in types


def test_access_log_summary_counts_replays_per_instance_and_cache_hits():
    lines = [
        '127.0.0.1 [01/Dec/2026:02:31:05 +0000] "GET / HTTP/1.1" 200 900 rt=0.010 up="127.0.0.1:41001" us="200" '
        'urt="0.010" cache=- gz=3.1',
        '127.0.0.1 [01/Dec/2026:02:31:05 +0000] "POST /_dash-update-component HTTP/1.1" 200 272 rt=0.2 '
        'up="127.0.0.1:41002, 127.0.0.1:41001" us="502, 200" urt="0.001, 0.1" cache=- gz=-',
        '127.0.0.1 [01/Dec/2026:02:31:06 +0000] "GET /geo/ab12/communes.json HTTP/1.1" 200 42000 rt=0.001 up="-" '
        'us="-" urt="-" cache=HIT gz=3.6',
    ]

    summary = bench_nginx.nginx_summary(lines, {41001: "web1", 41002: "web2"})

    assert summary["requests"] == 3
    assert summary["cache_hits"] == 1
    assert summary["by_instance"] == {"web1": 2}
    assert summary["replayed"] == 1
    assert summary["replayed_by_outcome"] == {"POST 502, 200 → 200": 1}
