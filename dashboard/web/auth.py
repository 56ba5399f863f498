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

Password checks cannot be used to burn the server's CPU (one check costs about 0.1 s: werkzeug's scrypt hash is slow on
purpose). Failed checks are counted per client address and for everyone together in a state shared by the gunicorn
workers (:class:`dashboard.web.limits.LoginThrottle`); over the limit, the request gets a French 429 with
``Retry-After`` *without* the password being checked. A wrong user name costs exactly what a wrong password costs
(the hash is always computed), so the answer time does not tell which one was wrong. A good password is remembered for
:data:`VERIFIED_TTL_S` seconds in the worker (an HMAC of it, never the password): the browser resends it with every
request of the « Données » page, and checking it each time would cost the editor 0.1 s per poll.

Also installed: error pages in French that never show a stack trace when debug is off (the trace goes to the log).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import flask
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash

from dashboard.web.limits import LoginThrottle, ThrottleRules, run_dir
from geodata.settings import Settings

EDITOR_USER = "editeur"
PROTECTED_PREFIXES: tuple[str, ...] = ("/donnees",)
"""Path prefixes reserved to editors (the « Données » page and anything below it)."""
EDITOR_ID_PREFIX = "donnees-"
"""Dash component ids of the « Données » page start with this: callbacks touching them are reserved to editors."""
CALLBACK_SUFFIX = "/_dash-update-component"
MAX_REQUEST_BYTES = 16 * 1024 * 1024
"""Request body limit: a 10 MB extract is ~13.4 MB once base64-encoded by ``dcc.Upload``."""
VERIFIED_TTL_S = 600.0
"""How long a worker trusts credentials it has checked (the same ``Authorization`` header is not hashed again)."""
_VERIFIED_MAX = 64
_VERIFIED: dict[bytes, float] = {}
_VERIFIED_KEY = secrets.token_bytes(32)

_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto;">
<h1>{title}</h1><p>{text}</p><p>{links}</p></body></html>"""


@dataclass(frozen=True)
class AuthConfig:
    """What :func:`install_auth` stored on the Flask app."""

    password_hash: str = ""
    header: str = ""
    everything: bool = False
    """``CTG_CARTO_AUTH_SCOPE=tout``: the map too is reserved to identified users."""
    throttle: LoginThrottle | None = field(default=None, compare=False)
    """Failed-login counter shared by the workers (None: no password configured)."""

    @property
    def enabled(self) -> bool:
        """True when editors must identify themselves."""
        return bool(self.password_hash or self.header)


def french_page(
    status: int, title: str, text: str, links: Iterable[tuple[str, str]] = (("Retour à la carte", "/"),)
) -> flask.Response:
    """A short HTML page in French (errors, refusals), every piece escaped; ``links`` are (label, href) pairs."""
    anchors = " · ".join(f'<a href="{escape(href)}">{escape(label)}</a>' for label, href in links)
    page = _PAGE.format(title=escape(title), text=escape(text), links=anchors)
    return flask.Response(page, status=status, mimetype="text/html")


_page = french_page


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


@dataclass(frozen=True)
class Identity:
    """Who sent a request: an editor or not, and how long to wait when password checks are throttled."""

    editor: bool
    retry_after: float = 0.0


def _verified_key(config: AuthConfig, user: str, password: str) -> bytes:
    data = "\0".join((config.password_hash, user, password)).encode("utf-8", "surrogatepass")
    return hmac.new(_VERIFIED_KEY, data, hashlib.sha256).digest()


def _check_password(config: AuthConfig, user: str, password: str) -> bool:
    """Constant work: the hash is computed even when the user name is wrong."""
    user_ok = hmac.compare_digest(user.encode("utf-8", "surrogatepass"), EDITOR_USER.encode())
    password_ok = check_password_hash(config.password_hash, password)
    return user_ok and password_ok


def _identify(config: AuthConfig, request: flask.Request) -> Identity:
    if not config.enabled:
        return Identity(True)
    if config.header and request.headers.get(config.header, "").strip():
        return Identity(True)
    auth = request.authorization
    if not config.password_hash or auth is None or auth.type != "basic":
        return Identity(False)
    user, password = auth.username or "", auth.password or ""
    key = _verified_key(config, user, password)
    now = time.monotonic()
    if _VERIFIED.get(key, 0.0) > now:
        return Identity(True)
    attempt = None
    if config.throttle is not None:
        attempt, wait = config.throttle.begin(request.remote_addr or "inconnu")
        if attempt is None:
            return Identity(False, wait)
    if not _check_password(config, user, password):
        return Identity(False)
    if attempt is not None and config.throttle is not None:
        config.throttle.succeeded(attempt)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        for stale in [k for k, until in _VERIFIED.items() if until <= now] or list(_VERIFIED)[:1]:
            del _VERIFIED[stale]
    _VERIFIED[key] = now + VERIFIED_TTL_S
    return Identity(True)


def identify(request: flask.Request) -> Identity:
    """Who sent ``request`` (checked once per request; always an editor when no authentication is configured)."""
    cached = getattr(flask.g, "_ctg_identity", None)
    if isinstance(cached, Identity):
        return cached
    config = getattr(flask.g, "_ctg_auth", None)
    identity = _identify(config if isinstance(config, AuthConfig) else AuthConfig(), request)
    flask.g._ctg_identity = identity
    return identity


def is_editor(request: flask.Request) -> bool:
    """Whether ``request`` comes from an editor (always True when no authentication is configured)."""
    return identify(request).editor


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


def _throttled(wait: float) -> flask.Response:
    minutes = max(1, math.ceil(wait / 60))
    response = _page(
        429,
        "Trop de tentatives de connexion",
        "Trop de mots de passe erronés ont été essayés : par sécurité, les nouvelles tentatives sont refusées "
        f"sans être vérifiées. Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}.",
    )
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def install_auth(
    server: flask.Flask, settings: Settings, throttle_path: Path | None = None, rules: ThrottleRules | None = None
) -> AuthConfig:
    """Protect the editor routes and callbacks of ``server`` as ``settings`` says; install French error pages.

    ``throttle_path`` is the SQLite file of failed logins (default: in :func:`dashboard.web.limits.run_dir`). The
    configuration lives in the guard itself (and, during a request, in ``flask.g`` for :func:`identify`).
    """
    scope = settings.auth_scope
    if scope not in {"donnees", "tout"}:
        raise ValueError(f"CTG_CARTO_AUTH_SCOPE « {scope} » inconnu : « donnees » ou « tout »")
    throttle = None
    if settings.auth_password_hash:
        throttle = LoginThrottle(throttle_path or run_dir(settings) / "connexions.sqlite3", rules)
    config = AuthConfig(
        password_hash=settings.auth_password_hash,
        header=settings.auth_header,
        everything=scope == "tout",
        throttle=throttle,
    )
    if not server.config.get("MAX_CONTENT_LENGTH"):
        server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @server.before_request
    def _guard() -> flask.Response | None:
        flask.g._ctg_auth = config
        if not config.enabled or not (config.everything or is_protected(flask.request)):
            return None
        identity = identify(flask.request)
        if identity.editor:
            return None
        return _throttled(identity.retry_after) if identity.retry_after > 0 else _challenge(config)

    @server.errorhandler(Exception)
    def _error(exc: Exception) -> Any:
        if isinstance(exc, RecursionError):  # a JSON body nested thousands of levels deep
            return _page(400, "Requête invalide", "La requête envoyée est trop imbriquée pour être lue.")
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

    return config
