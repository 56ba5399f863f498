"""Editor guard: anonymous refused on « Données » and its callbacks, password or proxy header accepted, no traces."""

from __future__ import annotations

import base64
import json

import flask
import pytest
from werkzeug.security import generate_password_hash

from dashboard.web.auth import EDITOR_USER, install_auth, is_editor, is_protected
from dashboard.web.limits import LoginThrottle
from geodata.settings import Settings

PASSWORD = "Perpignan-66!"
HASH = generate_password_hash(PASSWORD)


def make_app(settings: Settings, debug: bool = False) -> flask.Flask:
    app = flask.Flask("essai")
    app.debug = debug

    @app.route("/")
    def carte():
        return "carte"

    @app.route("/donnees")
    def donnees():
        return "données " + str(is_editor(flask.request))

    @app.route("/donnees/televerser", methods=["POST"])
    def televerser():
        return "ok"

    @app.route("/_dash-update-component", methods=["POST"])
    def callback():
        return flask.jsonify(protected=is_protected(flask.request), body=flask.request.get_json())

    @app.route("/panne")
    def panne():
        raise RuntimeError("secret interne /srv/ctg/geodata/build.py ligne 42")

    install_auth(app, settings)
    return app


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def callback_body(output: str, inputs: list[dict]) -> dict:
    return {"output": output, "outputs": {"id": output.split(".")[0], "property": "children"}, "inputs": inputs}


@pytest.fixture
def password_client():
    return make_app(Settings(auth_password_hash=HASH)).test_client()


def test_without_configuration_everything_is_open():
    client = make_app(Settings()).test_client()
    response = client.get("/donnees")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "données True"


def test_anonymous_gets_a_french_401_on_protected_paths_only(password_client):
    assert password_client.get("/").status_code == 200
    for path in ("/donnees", "/donnees/", "/donnees/televerser"):
        response = password_client.get(path) if path != "/donnees/televerser" else password_client.post(path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
        text = response.get_data(as_text=True)
        assert "Accès réservé" in text
        assert "« editeur »" in text
    # A path that merely starts with the same letters is not the « Données » area.
    assert password_client.get("/donneesXYZ").status_code == 404


def test_good_password_passes_wrong_ones_do_not(password_client):
    ok = password_client.get("/donnees", headers=basic(EDITOR_USER, PASSWORD))
    assert ok.status_code == 200
    assert ok.get_data(as_text=True) == "données True"
    assert password_client.get("/donnees", headers=basic(EDITOR_USER, "mauvais")).status_code == 401
    assert password_client.get("/donnees", headers=basic("admin", PASSWORD)).status_code == 401


def test_dash_callbacks_touching_editor_components_are_protected(password_client):
    upload = callback_body("donnees-resultat.children", [{"id": "donnees-upload", "property": "contents"}])
    response = password_client.post("/_dash-update-component", json=upload)
    assert response.status_code == 401
    # Same callback as an editor: passes, and Dash can still read the body.
    response = password_client.post("/_dash-update-component", json=upload, headers=basic(EDITOR_USER, PASSWORD))
    assert response.status_code == 200
    assert response.get_json() == {"protected": True, "body": upload}
    # Map callbacks stay open; a pattern-matching id of the editor page is protected.
    carte = callback_body("carte.figure", [{"id": "niveau", "property": "value"}])
    assert password_client.post("/_dash-update-component", json=carte).status_code == 200
    multi = callback_body(
        "..carte.figure...statut.children..", [{"id": {"type": "donnees-version", "index": 2}, "property": "n_clicks"}]
    )
    assert password_client.post("/_dash-update-component", json=multi).status_code == 401


def test_proxy_header_mode():
    client = make_app(Settings(auth_header="X-Remote-User")).test_client()
    response = client.get("/donnees")
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response.headers  # the proxy authenticates, not the browser
    assert client.get("/donnees", headers={"X-Remote-User": "m.dupont"}).status_code == 200
    assert client.get("/donnees", headers={"X-Remote-User": "  "}).status_code == 401


def test_failing_route_shows_a_short_french_page_without_trace(password_client):
    response = password_client.get("/panne")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Erreur interne" in text
    assert "Traceback" not in text
    assert "secret interne" not in text
    assert "build.py" not in text
    assert password_client.get("/inconnue").status_code == 404


def test_debug_mode_lets_the_developer_see_the_error():
    app = make_app(Settings(), debug=True)
    app.testing = True  # propagate instead of the interactive debugger
    with pytest.raises(RuntimeError, match="secret interne"):
        app.test_client().get("/panne")


def test_oversize_request_gets_a_french_413(password_client):
    body = json.dumps({"x": "a" * (17 * 1024 * 1024)})
    response = password_client.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)


def test_scope_tout_protects_the_map_with_the_same_password():
    client = make_app(Settings(auth_password_hash=HASH, auth_scope="tout")).test_client()
    assert client.get("/").status_code == 401
    good = {"Authorization": "Basic " + base64.b64encode(f"{EDITOR_USER}:{PASSWORD}".encode()).decode()}
    assert client.get("/", headers=good).status_code == 200
    assert make_app(Settings(auth_password_hash=HASH)).test_client().get("/").status_code == 200  # default: public


def test_unknown_scope_is_refused():
    with pytest.raises(ValueError, match="CTG_CARTO_AUTH_SCOPE"):
        make_app(Settings(auth_password_hash=HASH, auth_scope="partout"))


# --- failed logins: throttled per client and globally, a wrong user costs a hash --------------------------------


def throttled_app(tmp_path, rules=None) -> flask.Flask:
    from dashboard.web.limits import ThrottleRules

    app = flask.Flask("essai")

    @app.route("/donnees")
    def donnees():
        return "données"

    install_auth(app, Settings(auth_password_hash=HASH), tmp_path / "connexions.sqlite3", rules or ThrottleRules())
    return app


@pytest.fixture
def hashes(monkeypatch):
    """Counts the password hash computations (the expensive part)."""
    from werkzeug.security import check_password_hash

    calls = []
    monkeypatch.setattr("dashboard.web.auth._VERIFIED", {})  # no credentials remembered from another test

    def counting(stored, password):
        calls.append(password)
        return check_password_hash(stored, password)

    monkeypatch.setattr("dashboard.web.auth.check_password_hash", counting)
    return calls


def test_a_wrong_user_costs_the_same_hash_as_a_wrong_password(tmp_path, hashes):
    client = throttled_app(tmp_path).test_client()
    assert client.get("/donnees", headers=basic("admin", PASSWORD)).status_code == 401
    assert client.get("/donnees", headers=basic(EDITOR_USER, "mauvais")).status_code == 401
    assert hashes == [PASSWORD, "mauvais"]  # one hash each: the wrong user is not answered early


def test_failed_logins_of_one_client_are_refused_unchecked_with_a_french_429(tmp_path, hashes):
    client = throttled_app(tmp_path).test_client()
    for n in range(5):
        assert client.get("/donnees", headers=basic(EDITOR_USER, f"essai{n}")).status_code == 401
    assert len(hashes) == 5
    response = client.get("/donnees", headers=basic(EDITOR_USER, "essai6"))
    assert response.status_code == 429
    assert len(hashes) == 5  # refused without computing the hash
    assert 0 < int(response.headers["Retry-After"]) <= 300
    assert "WWW-Authenticate" not in response.headers
    text = response.get_data(as_text=True)
    assert "Trop de tentatives de connexion" in text and "Réessayez dans 5 minutes" in text
    # Even the right password waits (unless this worker had already verified it): nothing is checked.
    assert client.get("/donnees", headers=basic(EDITOR_USER, PASSWORD)).status_code == 429
    # Another address is not concerned.
    other = client.get("/donnees", headers=basic(EDITOR_USER, PASSWORD), environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_failed_logins_are_also_capped_for_all_clients_together(tmp_path, hashes):
    from dashboard.web.limits import ThrottleRules

    client = throttled_app(tmp_path, ThrottleRules(per_client=5, total=12, total_window_s=60)).test_client()
    for n in range(12):  # 12 addresses, one failure each: no client is over its own limit
        env = {"REMOTE_ADDR": f"10.1.0.{n}"}
        assert client.get("/donnees", headers=basic(EDITOR_USER, "x"), environ_base=env).status_code == 401
    fresh = client.get("/donnees", headers=basic(EDITOR_USER, "x"), environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert fresh.status_code == 429
    assert 0 < int(fresh.headers["Retry-After"]) <= 60
    assert len(hashes) == 12


def test_a_good_password_is_not_counted_and_not_hashed_again(tmp_path, hashes):
    app = throttled_app(tmp_path)
    client = app.test_client()
    for _ in range(8):
        assert client.get("/donnees", headers=basic(EDITOR_USER, PASSWORD)).status_code == 200
    assert hashes == [PASSWORD]  # checked once, then trusted by this worker for a while
    assert LoginThrottle(tmp_path / "connexions.sqlite3").failures("127.0.0.1") == 0


def test_the_throttle_is_shared_by_workers_and_holds_under_concurrent_attempts(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from dashboard.web.limits import LoginThrottle, ThrottleRules

    path = tmp_path / "connexions.sqlite3"
    rules = ThrottleRules(per_client=5, total=100)
    workers = [LoginThrottle(path, rules) for _ in range(4)]  # one per gunicorn worker: same file, own connections
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda n: workers[n % 4].begin("192.0.2.7")[0], range(32)))
    assert sum(a is not None for a in answers) == 5
    assert LoginThrottle(path, rules).failures("192.0.2.7") == 5
    # The window passes: the client may try again.
    assert workers[0].begin("192.0.2.7", now=__import__("time").time() + 301)[0] is not None


def test_a_deeply_nested_json_body_is_a_french_400_not_a_500(password_client):
    body = "[" * 100_000 + "]" * 100_000
    response = password_client.post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "trop imbriquée" in response.get_data(as_text=True)
