"""Who may change the data: a small HTTP guard in front of the « Données » page and its callbacks.

Reading the map is open to everyone; uploading CAF extracts, rebuilding or restoring the bundle is reserved to
editors. Two ways to be an editor, both optional (with neither, the guard is off: local use on an adviser's PC):

- **mot de passe** — ``CTG_CARTO_AUTH_PASSWORD_HASH`` holds a werkzeug hash; the browser asks for user ``editeur``
  and that password (HTTP Basic, so use HTTPS in production). Generate the hash with::

      python -c "from werkzeug.security import generate_password_hash as g; print(g('mot de passe'))"

- **proxy** — ``CTG_CARTO_AUTH_HEADER`` names a header (``X-Remote-User``) that the reverse proxy sets after its own
  authentication (SSO, LDAP…). Any request carrying it is an editor, so the proxy MUST remove that header from
  incoming client requests.

With ``CTG_CARTO_AUTH_SCOPE=tout`` the same credentials protect the whole application, map included (default
``donnees``: only the data page). Protected otherwise: every path starting with one of :data:`PROTECTED_PREFIXES`
and every Dash callback request touching a component whose id starts with :data:`EDITOR_ID_PREFIX` (uploads arrive
through callbacks). The dashboard reuses
:func:`is_protected` and :func:`is_editor` (e.g. to hide the upload widgets from visitors).

Also installed: error pages in French that never show a stack trace when debug is off (the trace goes to the log).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import flask
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash

from geodata.settings import Settings

EDITOR_USER = "editeur"
PROTECTED_PREFIXES: tuple[str, ...] = ("/donnees",)
"""Path prefixes reserved to editors (the « Données » page and anything below it)."""
EDITOR_ID_PREFIX = "donnees-"
"""Dash component ids of the « Données » page start with this: callbacks touching them are reserved to editors."""
CALLBACK_SUFFIX = "/_dash-update-component"
MAX_REQUEST_BYTES = 16 * 1024 * 1024
"""Request body limit: a 10 MB extract is ~13.4 MB once base64-encoded by ``dcc.Upload``."""
_EXTENSION = "ctg_carto_auth"

_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto;">
<h1>{title}</h1><p>{text}</p><p><a href="/">Retour à la carte</a></p></body></html>"""


@dataclass(frozen=True)
class AuthConfig:
    """What :func:`install_auth` stored on the Flask app."""

    password_hash: str = ""
    header: str = ""
    everything: bool = False
    """``CTG_CARTO_AUTH_SCOPE=tout``: the map too is reserved to identified users."""

    @property
    def enabled(self) -> bool:
        """True when editors must identify themselves."""
        return bool(self.password_hash or self.header)


def _page(status: int, title: str, text: str) -> flask.Response:
    return flask.Response(_PAGE.format(title=title, text=text), status=status, mimetype="text/html")


def _ids(value: Any) -> Iterable[str]:
    """Every component id named in a piece of a Dash callback request (strings, dict ids, ``id.prop`` strings)."""
    if isinstance(value, str):
        for part in value.strip(".").split(".."):
            yield part.split(".", 1)[0]
    elif isinstance(value, dict):
        if "id" in value:
            ident = value["id"]
            yield from ([str(v) for v in ident.values()] if isinstance(ident, dict) else [str(ident)])
        for key, item in value.items():
            if key != "id" and isinstance(item, list | dict):
                yield from _ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item)


def is_protected(request: flask.Request) -> bool:
    """Whether ``request`` changes data: a protected path, or a Dash callback touching an editor component."""
    path = request.path
    if any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES):
        return True
    if not path.endswith(CALLBACK_SUFFIX) or request.method != "POST":
        return False
    payload = request.get_json(silent=True)  # cached by Flask: Dash reads the same parsed body
    if not isinstance(payload, dict):
        return False
    parts = [payload.get(k) for k in ("output", "outputs", "inputs", "state", "changedPropIds")]
    return any(i.startswith(EDITOR_ID_PREFIX) for i in _ids(parts))


def is_editor(request: flask.Request) -> bool:
    """Whether ``request`` comes from an editor (always True when no authentication is configured)."""
    config: AuthConfig = flask.current_app.extensions.get(_EXTENSION, AuthConfig())
    if not config.enabled:
        return True
    if config.header and request.headers.get(config.header, "").strip():
        return True
    if config.password_hash and request.authorization is not None:
        auth = request.authorization
        user_ok = hmac.compare_digest((auth.username or "").encode(), EDITOR_USER.encode())
        password = auth.password or ""
        return user_ok and check_password_hash(config.password_hash, password)
    return False


def _challenge(config: AuthConfig) -> flask.Response:
    response = _page(
        401,
        "Accès réservé",
        "L'espace « Données » (dépôt des extraits Caf, reconstruction de la carte) est réservé aux personnes "
        "habilitées. Identifiez-vous avec l'utilisateur « editeur » et le mot de passe communiqué par "
        "l'administrateur."
        if config.password_hash
        else "L'espace « Données » est réservé aux personnes habilitées : connectez-vous par le portail de "
        "votre organisme.",
    )
    if config.password_hash:
        response.headers["WWW-Authenticate"] = 'Basic realm="ctg-carto : espace Donnees", charset="UTF-8"'
    return response


def install_auth(server: flask.Flask, settings: Settings) -> None:
    """Protect the editor routes and callbacks of ``server`` as ``settings`` says; install French error pages."""
    scope = getattr(settings, "auth_scope", "donnees")
    if scope not in {"donnees", "tout"}:
        raise ValueError(f"CTG_CARTO_AUTH_SCOPE « {scope} » inconnu : « donnees » ou « tout »")
    config = AuthConfig(
        password_hash=settings.auth_password_hash, header=settings.auth_header, everything=scope == "tout"
    )
    server.extensions[_EXTENSION] = config
    if not server.config.get("MAX_CONTENT_LENGTH"):
        server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @server.before_request
    def _guard() -> flask.Response | None:
        if not config.enabled or not (config.everything or is_protected(flask.request)):
            return None
        return None if is_editor(flask.request) else _challenge(config)

    @server.errorhandler(Exception)
    def _error(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            if exc.code == 413:
                return _page(413, "Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée.")
            return exc  # 404, 405…: werkzeug's short pages, no trace
        if flask.current_app.debug:
            raise exc  # the developer's debugger
        flask.current_app.logger.exception("Erreur interne sur %s", flask.request.path)
        return _page(
            500,
            "Erreur interne",
            "Une erreur inattendue s'est produite. Elle a été enregistrée dans le journal du serveur ; "
            "réessayez ou prévenez l'administrateur.",
        )
