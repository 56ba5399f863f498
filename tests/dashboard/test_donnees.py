"""« Données » page: pure helpers, callbacks called directly, routes and the auth wiring of the real app.

Uploads go to a temporary CAF directory (the page's settings are swapped in ``server.extensions`` per test).
The auth-enabled app runs in a subprocess (one Dash app per process) and is queried over 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from dash import html

from dashboard.core import runtime
from dashboard.donnees import callbacks as dc
from dashboard.donnees.page import (
    TEMPLATES_DIR,
    has_blocking,
    limits_text,
    make_layers,
    make_report,
    make_versions,
    reload_notice,
    report_rows,
    template_files,
)
from dashboard.web.pages import guide_markdown, safe_file
from geodata.bundle import BUNDLE_FORMAT
from geodata.errors import Problem
from geodata.manifest import Manifest
from geodata.settings import PROJECT_ROOT, Settings
from geodata.upload import UploadLimits

EAJE_EXAMPLE = TEMPLATES_DIR / "caf_eaje_exemple.csv"


def data_url(content: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(content).decode()


def _texts(component) -> list[str]:
    """Every text string of a component tree (what the browser shows as text)."""
    out: list[str] = []
    if isinstance(component, str):
        return [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None:
            out.extend(_texts(child))
    return out


@pytest.fixture
def page_settings(app, tmp_path, monkeypatch):
    """The app's « Données » settings pointed at a temporary CAF directory and bundle."""
    settings = replace(Settings(), caf_dir=tmp_path / "caf", bundle=tmp_path / "bundle")
    monkeypatch.setitem(app.server.extensions, runtime.EXTENSION, replace(runtime.of(app.server), settings=settings))
    return settings


# --- pure helpers -------------------------------------------------------------------------------------------------


def test_limits_text_shows_formats_size_and_rows():
    text = limits_text(UploadLimits())
    assert text.startswith("Formats acceptés : CSV ou XLSX. Au plus 10 Mo et 20\u202f000 lignes par fichier")
    assert "2,5 Mo" in limits_text(UploadLimits(max_bytes=5 * 1024 * 1024 // 2))


def test_report_rows_put_errors_first_and_keep_text():
    problems = [
        Problem("a.csv", "colonne en trop", column="X", severity="avertissement"),
        Problem("a.csv", "<script>alert(1)</script> inconnu", row=3, column="Nom", suggestion="corrigez"),
    ]
    rows = report_rows(problems)
    assert rows[0] == {
        "Fichier": "a.csv",
        "Ligne": "3",
        "Colonne": "Nom",
        "Gravité": "erreur",
        "Problème": "<script>alert(1)</script> inconnu",
        "Suggestion": "corrigez",
    }
    assert rows[1]["Ligne"] == "" and rows[1]["Gravité"] == "avertissement"
    assert has_blocking(problems) and not has_blocking(problems[:1])
    report = make_report(problems, ["eaje_2025-03-31.csv"])
    texts = _texts(report)
    assert "<script>alert(1)</script> inconnu" in texts  # a plain string child: Dash shows it as text
    assert any(t.startswith("1\u00a0erreur bloquante, 1\u00a0avertissement :") for t in texts)


def test_versions_table_offers_restore_except_for_current():
    rows = [
        {"name": "20260102T000000Z", "built_at": "2026-01-02", "layers": 9, "synthetic": False, "current": True},
        {"name": "20260101T000000Z", "built_at": "2026-01-01", "layers": 8, "synthetic": True, "current": False},
    ]
    table = make_versions(rows)
    body = table.children[1].children
    assert "version actuelle" in _texts(body[0])
    provider = body[1].children[-1].children
    assert provider.id == {"type": "donnees-restaurer", "version": "20260101T000000Z"}
    assert "Restaurer la version 20260101T000000Z" in provider.message
    assert _texts(make_versions([])) == ["Aucune version de bundle enregistrée."]
    assert _texts(make_versions([], "/srv/b")) == [
        "Aucune version de bundle enregistrée pour le bundle /srv/b (construit ailleurs ou à la main ?)."
    ]


def test_layers_lists_present_and_missing_with_howto():
    manifest = {
        "layers": {"zrr": {"title": "ZRR", "publisher": "ANCT", "vintage": "2017", "rows": 226}},
        "missing": [{"layer": "bpe", "title": "BPE", "howto": "Téléchargez le fichier sur insee.fr"}],
    }
    texts = _texts(make_layers(Manifest.from_json(manifest)))
    assert "Couches présentes (1)" in texts and "ZRR — ANCT, 2017 (226 lignes)" in texts
    assert "Couches absentes (1) et comment les ajouter" in texts
    assert "BPE" in texts and "Téléchargez le fichier sur insee.fr" in texts


def test_reload_notice_only_when_version_changed():
    assert reload_notice("v1", "v1") == ""
    assert reload_notice("v1", "") == ""
    assert reload_notice("v1", "v2").startswith("Nouveau bundle prêt (version v2)")


def test_template_files_and_safe_names():
    groups = dict(template_files())
    assert groups["Crèches (EAJE)"] == ["caf_eaje.xlsx", "caf_eaje.csv", "caf_eaje_exemple.csv"]
    assert len(groups) == 6
    assert groups["Demande par commune (enfants couverts, taux de couverture)"][0] == "caf_demande.xlsx"
    pattern = __import__("dashboard.donnees.page", fromlist=["_TEMPLATE_NAME"])._TEMPLATE_NAME
    assert safe_file("caf_eaje.csv", TEMPLATES_DIR, pattern) == EAJE_EXAMPLE.with_name("caf_eaje.csv")
    for bad in ("../pyproject.toml", "..", "%2e%2e/x.csv", "/etc/passwd", "absent.csv", "CAF_EAJE.CSV"):
        assert safe_file(bad, TEMPLATES_DIR, pattern) is None


def test_guide_images_point_at_the_image_route():
    assert guide_markdown("![Carte](guide/carte.png) et [lien](guide/x.txt)") == (
        "![Carte](/aide/images/carte.png) et [lien](guide/x.txt)"
    )


# --- callbacks called directly -------------------------------------------------------------------------------------


def test_upload_of_the_example_gives_an_empty_report_and_enables_confirm(app_context, page_settings):
    token, report, disabled, _ = dc.on_upload([data_url(EAJE_EXAMPLE.read_bytes())], ["mon extrait.csv"])
    assert disabled is False
    assert len(token) == 16
    staged = list((page_settings.caf_dir / ".staging" / token).glob("*.csv"))
    assert [p.name for p in staged] == ["eaje_2025-03-31.csv"] or len(staged) == 1
    assert not list(page_settings.caf_dir.glob("*.csv"))  # nothing committed before confirmation
    texts = _texts(report)
    assert "Aucun problème : vous pouvez confirmer." in texts
    assert not any(isinstance(c, html.Table) for c in report.children)


def test_upload_of_a_broken_file_lists_line_and_column_and_disables_confirm(app_context, page_settings):
    lines = EAJE_EXAMPLE.read_text(encoding="utf-8-sig").splitlines()
    lines[2] = lines[2].replace(";66136;", ";66000;")  # a postal code instead of the INSEE code, line 3
    content = ("\n".join(lines) + "\n").encode()
    _, report, disabled, _ = dc.on_upload([data_url(content)], ["eaje_2025-03-31.csv"])
    assert disabled is True
    table = next(c for c in report.children if isinstance(c, html.Table))
    rows = [[cell.children for cell in tr.children] for tr in table.children[1].children]
    errors = [r for r in rows if r[3] == "erreur"]
    assert any(r[1] == "3" and r[2] == "Code commune" for r in errors), rows


def test_path_traversal_name_is_refused_in_french_and_nothing_is_written_outside(app_context, page_settings):
    token, report, disabled, _ = dc.on_upload([data_url(b"a;b\n1;2\n")], ["../../../etc/passwd"])
    assert token is None and disabled is True
    texts = " ".join(_texts(report))
    assert "type de fichier refusé" in texts and "formats acceptés : .csv, .xlsx" in texts
    # A crafted name with a valid suffix is reduced to a base name inside the staging directory.
    outcome = dc.process_upload(
        [data_url(EAJE_EXAMPLE.read_bytes())],
        ["..\\..\\..\\tmp\\eaje_2025-03-31.csv"],
        page_settings.caf_dir,
        dc.import_context("66"),
        UploadLimits(),
    )
    assert outcome.files == ("eaje_2025-03-31.csv",)
    written = [p for p in page_settings.caf_dir.rglob("*") if p.is_file()]
    assert written and all(p.resolve().is_relative_to(page_settings.caf_dir.resolve()) for p in written)


def test_confirm_without_validation_refuses_and_a_busy_rebuild_queues_the_file(app_context, page_settings):
    message, disabled, _, interval_off = dc.on_confirm(1, None)
    assert message.startswith("Déposez d'abord un fichier") and disabled is True and interval_off is True
    token, _, _, _ = dc.on_upload([data_url(EAJE_EXAMPLE.read_bytes())], ["eaje.csv"])
    # A rebuild is "running" (lock held by this live process): the files are saved and queued for the next build,
    # which the running one starts when it ends (geodata.rebuild: the pending flag); the page keeps polling.
    versions = page_settings.bundle.parent / "bundle.versions"
    versions.mkdir(parents=True)
    (versions / "rebuild.lock").write_text(str(os.getpid()))
    message, _, token_after, interval_off = dc.on_confirm(1, token)
    assert message.startswith("Fichier enregistré : eaje.csv.")
    assert "déjà en cours : une nouvelle reconstruction les intégrera automatiquement" in message
    assert "Relancez" not in message and "redémarr" not in message
    assert interval_off is False and token_after is None
    assert (versions / "rebuild.pending").is_file()
    assert [p.name for p in page_settings.caf_dir.glob("*.csv")] == ["eaje.csv"]
    # The same token cannot be committed twice.
    message, *_ = dc.on_confirm(2, token)
    assert message.startswith("Rien n'a été enregistré")


def _fake_version(bundle: Path, name: str, built_at: str) -> Path:
    version = bundle.parent / f"{bundle.name}.versions" / name
    version.mkdir(parents=True)
    manifest = {"format": BUNDLE_FORMAT, "built_at": built_at, "layers": {"zrr": {"title": "ZRR", "rows": 3}}}
    manifest["missing"] = [{"layer": "bpe", "title": "BPE", "howto": "Déposez le fichier BPE."}]
    (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return version


def test_status_versions_layers_and_new_bundle_notice(app_context, page_settings, app):
    bundle = page_settings.bundle
    old = _fake_version(bundle, "20260101T000000Z", "2026-01-01")
    _fake_version(bundle, "20260102T000000Z", "2026-01-02")
    bundle.symlink_to(old.relative_to(bundle.parent), target_is_directory=True)
    status = {"state": "running", "lines": ["Lecture des sources", "EAJE : 4 lignes"], "started": "t0"}
    status.update(finished=None, pid=os.getpid())
    (bundle.parent / "bundle.versions" / "rebuild-status.json").write_text(json.dumps(status), encoding="utf-8")

    progress, interval_off, versions, layers, notice = dc.refresh_status(False, 1, None)
    assert interval_off is False  # still running: keep polling
    assert "Lecture des sources\nEAJE : 4 lignes" in _texts(progress)
    assert "Dernière reconstruction : en cours (lancée le t0)" in _texts(progress)
    assert "Déposez le fichier BPE." in _texts(layers)
    assert notice.startswith("Nouveau bundle prêt (version 20260101T000000Z)")  # the app was built from another
    body = versions.children[1].children
    assert [tr.children[0].children for tr in body] == ["20260102T000000Z", "20260101T000000Z"]
    assert dc.refresh_status(True, 1, None) == (dc.no_update,) * 5  # hidden page: nothing computed

    assert dc.restore_version(page_settings, "../20260102T000000Z").startswith("Restauration refusée : Version")
    assert dc.restore_version(page_settings, "20260102T000000Z").startswith("Restauration refusée : Une reconstr")


# --- routes and auth -----------------------------------------------------------------------------------------------


def test_routes_with_auth_off(app):
    client = app.server.test_client()
    for path in ("/", "/donnees", "/aide"):
        assert client.get(path).status_code == 200
    with client.get("/modeles/caf_eaje.csv") as template:  # closed: a file's response holds it open
        assert template.status_code == 200 and template.data.startswith("\ufeffIdentifiant;Nom".encode())
        assert "attachment" in template.headers["Content-Disposition"]
    for bad in ("/modeles/pyproject.toml", "/modeles/caf_eaje.py", "/aide/images/absente.png"):
        assert client.get(bad).status_code == 404
    for traversal in ("/modeles/..%2F..%2Fpyproject.toml", "/aide/images/..%2F..%2Fpyproject.toml"):
        response = client.get(traversal)  # not our route any more: Dash's page, never the file
        assert b"[project]" not in response.data


AUTH_SERVER = """
import sys
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server
import tests.dashboard.conftest as c
from dashboard.app import create_app
from geodata.settings import Settings

base = c.base.__wrapped__()
bundle = c.bundle.__wrapped__(base)
settings = Settings(auth_password_hash=generate_password_hash("secret-caf"), caf_dir=sys.argv[1])
app = create_app(settings, bundle, indicators=c.fake_indicators.__wrapped__(bundle), registry=c.REGISTRY)
server = make_server("127.0.0.1", 0, app.server, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _request(url: str, body: dict | None = None, auth: str = "") -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_auth_on_protects_donnees_page_and_callbacks(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", AUTH_SERVER, str(tmp_path / "caf")],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        start = time.monotonic()
        port = int(proc.stdout.readline())
        assert time.monotonic() - start < 30
        root = f"http://127.0.0.1:{port}"
        outputs = [
            ("donnees-progression", "children"),
            ("donnees-minuterie", "disabled"),
            ("donnees-versions", "children"),
            ("donnees-couches", "children"),
            ("donnees-nouveau-bundle", "children"),
        ]
        callback = {
            "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [
                {"id": "donnees-page", "property": "hidden", "value": False},
                {"id": "donnees-minuterie", "property": "n_intervals", "value": None},
                {"id": "donnees-restauration-message", "property": "children", "value": None},
            ],
            "state": [],
            "changedPropIds": ["donnees-page.hidden"],
        }
        assert _request(root + "/") == 200  # the map stays open to everyone
        assert _request(root + "/aide") == 200
        assert _request(root + "/donnees") == 401
        assert _request(root + "/_dash-update-component", callback) == 401
        assert _request(root + "/donnees", auth="editeur:mauvais") == 401
        assert _request(root + "/donnees", auth="editeur:secret-caf") == 200
        assert _request(root + "/_dash-update-component", callback, auth="editeur:secret-caf") == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_guide_is_rendered_only_when_the_aide_page_is_opened():
    from dash import dcc, no_update

    from dashboard.web.callbacks import show_guide

    assert show_guide("/") is no_update
    assert show_guide("/donnees") is no_update
    guide = show_guide("/aide")
    assert isinstance(guide, dcc.Markdown)
    assert "Guide" in guide.children
    assert "/aide/images/carte.png" in guide.children


def test_guide_names_the_built_territory_not_the_66():
    from dashboard.core.model import Territory
    from dashboard.web.pages import GUIDE_FILE, guide_for_territory

    text = GUIDE_FILE.read_text(encoding="utf-8")
    assert guide_for_territory(text, Territory("66", "Pyrénées-Orientales", "Caf des Pyrénées-Orientales", "P", "1"))
    corse = guide_for_territory(text, Territory("2A", "Corse-du-Sud", "Caf de la Corse-du-Sud", "Ajaccio", "2A004"))
    assert "Caf de la Corse-du-Sud" in corse and "2A004" in corse and "Ajaccio" in corse
    assert "Pyrénées-Orientales (66)" in corse.splitlines()[2]  # the screenshots say where they come from
    for word in ("Caf des Pyrénées-Orientales", "66136", "Perpignan", "département 66"):
        assert word not in corse


def test_guide_is_a_task_guide_for_advisers_not_an_install_manual():
    """Issue 13 point 8: the Aide page tells advisers how to do their tasks; installation lives in the README."""
    from dashboard.web.pages import GUIDE_FILE

    text = GUIDE_FILE.read_text(encoding="utf-8")
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    for task in ("Explorer", "sous-dotation et le bonus", "Préparer une réunion", "Animer", "Exporter", "extraits Caf"):
        assert any(task in title for title in titles), task
    for admin in ("make run", "gunicorn", "CTG_CARTO_", "pip ", "ctg-carto "):
        assert admin not in text, admin
    readme = (GUIDE_FILE.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "## Installer et lancer" in readme and "## Rafraîchir les données publiques" in readme
