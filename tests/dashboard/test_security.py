"""Security headers and the map toolbar: the page may only talk to its own server (Flask test client, no browser).

The browser side (every request the page makes, the French toolbar) is checked against gunicorn in
``tests/test_hardening.py``.
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from dashboard.core import ids
from dashboard.map.layout import MAP_CONFIG
from dashboard.web.security import content_security_policy, tile_origin
from geodata.settings import PROJECT_ROOT


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_response_carries_the_security_headers(app):
    client = app.server.test_client()
    for path in ("/", "/_dash-layout", "/assets/style.css", "/inconnue"):
        response = client.get(path)
        response.close()  # a static file's response holds the file open until closed
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        csp = _directives(response.headers["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["default-src"] == ["'self'"]
        assert csp["connect-src"] == ["'self'"]  # no tile server configured: nowhere else to send data
        assert csp["object-src"] == ["'none'"]


def test_inline_scripts_run_only_by_hash(app):
    response = app.server.test_client().get("/")
    html = response.get_data(as_text=True)
    script_src = _directives(response.headers["Content-Security-Policy"])["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    inline = [
        body
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
        if "src=" not in attrs and "application/json" not in attrs
    ]
    assert len(inline) >= 2  # the renderer start-up line and the clientside callbacks
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src, body[:80]


def test_an_administrator_tile_server_is_the_only_other_origin():
    assert tile_origin("") == ""
    assert tile_origin("https://tuiles.example.org/{z}/{x}/{y}.png") == "https://tuiles.example.org"
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert tile_origin("javascript:alert(1)") == ""
    csp = _directives(content_security_policy([], [tile_origin("https://tuiles.example.org/{z}/{x}/{y}.png")]))
    assert csp["img-src"][-1] == csp["connect-src"][-1] == "https://tuiles.example.org"
    assert csp["script-src"] == ["'self'"]


def test_the_map_toolbar_uploads_nothing_and_speaks_french(app):
    assert MAP_CONFIG["showSendToCloud"] is False and MAP_CONFIG["showEditInChartStudio"] is False
    assert MAP_CONFIG["plotlyServerURL"] == ""
    assert {"toImage", "sendChartToCloud", "sendDataToCloud", "editInChartStudio", "downloadJson"} <= set(
        MAP_CONFIG["modeBarButtonsToRemove"]
    )
    assert MAP_CONFIG["locale"] == "fr"
    layout = app.server.test_client().get("/_dash-layout").get_data(as_text=True)
    assert '"locale": "fr"' in layout.replace('":"', '": "') and ids.MAP in layout
    client = app.server.test_client()
    client.get("/")
    with client.get("/assets/plotly-locale-fr.js") as locale:
        assert locale.status_code == 200
        text = locale.get_data(as_text=True)
    # Every button left on the map toolbar has its French title.
    for english in ("Pan", "Box Select", "Lasso Select", "Zoom in", "Zoom out", "Reset view"):
        assert f'"{english}":' in text
    assert (PROJECT_ROOT / "assets" / "plotly-locale-fr.js").is_file()


def test_the_export_forwards_credentials_only_when_the_whole_app_is_protected():
    import flask

    from dashboard.exports.view import _credentials
    from geodata.settings import Settings

    app = flask.Flask("essai")
    headers = {"Authorization": "Basic ZWRpdGV1cjp4", "X-Remote-User": "m.dupont", "Cookie": "session=1"}
    with app.test_request_context("/export/vue.png", headers=headers):
        assert _credentials(Settings(auth_password_hash="h"), flask.request) == {}  # the map is public
        forwarded = _credentials(Settings(auth_header="X-Remote-User", auth_scope="tout"), flask.request)
        assert forwarded == {"Authorization": "Basic ZWRpdGV1cjp4", "X-Remote-User": "m.dupont"}


def test_the_shared_limits_directory_is_private_and_never_someone_else_s(tmp_path, monkeypatch):
    import os
    import stat

    from dashboard.web.limits import SlotBusy, export_slot, run_dir
    from geodata.settings import Settings

    monkeypatch.setattr("dashboard.web.limits.run_root", lambda: tmp_path)
    settings = Settings(bundle=tmp_path / "bundle")
    path = run_dir(settings)
    assert path.parent == tmp_path and stat.S_IMODE(path.stat().st_mode) == 0o700
    assert run_dir(settings) == path  # every worker of the deployment finds the same one
    other = run_dir(Settings(bundle=tmp_path / "autre"))
    assert other != path
    # A trap (a symlink planted where the directory should be) is refused: a private directory of this process.
    os.rmdir(other)
    os.symlink(tmp_path / "ailleurs", other)
    assert run_dir(Settings(bundle=tmp_path / "autre")) != other
    with export_slot(path, 1), pytest.raises(SlotBusy), export_slot(path, 1):
        pass
    with export_slot(path, 1) as number:  # released at the end of the first block
        assert number == 0
