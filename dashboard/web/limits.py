"""Limits shared by every gunicorn worker of an instance: export slots and the failed-login throttle.

Why shared state at all: gunicorn runs several worker processes (the ``Procfile``), each with its own memory. A limit
kept in a Python variable would be multiplied by the number of workers and reset by every worker restart, which is
exactly what an attacker hammering the server would exploit. Both limits therefore live in a small private
directory of the machine (:func:`run_dir`), one per deployment (derived from the bundle path), mode 0700:

- export slots are ``flock`` locks on files (:func:`export_slot`): the kernel releases them when the holder exits,
  even when gunicorn kills a worker (timeout, ``kill -9``), so a slot can never stay taken;
- failed logins are rows of a SQLite database (:class:`LoginThrottle`), written in ``BEGIN IMMEDIATE`` transactions,
  so two workers never both let the 6th attempt through.

Limits of this design, on purpose: the state is per machine. Several machines behind one load balancer each apply
the limits on their own (an attacker gets N times the per-client budget, still a few attempts per minute); put the
throttle in the reverse proxy too if that matters. The state survives a restart of the service (a restart does not
reset a lock-out) and is forgotten after its window.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOG = logging.getLogger(__name__)


def run_root() -> Path:
    """Where the per-deployment directories live (the system temporary directory; tests point it elsewhere)."""
    return Path(tempfile.gettempdir())


def run_dir(settings: Any) -> Path:
    """Private directory of this deployment's shared limits, created on first use.

    Keyed by the absolute bundle path: every worker of an instance (and every instance serving the same bundle on
    this machine) shares it; two deployments or two test runs on one machine do not. Refuses a directory that is a
    symlink or belongs to another user (someone else's trap in ``/tmp``) and falls back to a per-process directory,
    with the limits then per worker, logged.
    """
    key = hashlib.sha256(str(Path(settings.bundle).absolute()).encode()).hexdigest()[:16]
    path = run_root() / f"ctg-carto-{os.getuid()}-{key}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not stat.S_IMODE(info.st_mode) & 0o077:
            return path
        LOG.error("dossier %s refusé (lien, autre propriétaire ou droits trop larges)", path)
    except OSError as exc:
        LOG.error("dossier %s inutilisable : %s", path, exc)
    fallback = Path(tempfile.mkdtemp(prefix="ctg-carto-"))
    LOG.error("limites d'export et de connexion propres à ce processus (%s)", fallback)
    return fallback


# ---------------------------------------------------------------------------------------------------------------
# Export slots
# ---------------------------------------------------------------------------------------------------------------


class SlotBusy(RuntimeError):
    """Every slot is taken: the caller answers « réessayez » instead of waiting (and holding a worker)."""


@contextlib.contextmanager
def export_slot(directory: Path, slots: int = 1) -> Iterator[int]:
    """Hold one of ``slots`` export slots of ``directory`` for the ``with`` block (yields its number).

    Why no waiting line inside the server: a gunicorn sync worker that waits is a worker that serves nobody, and
    the export's own Chromium needs free workers to load the page it captures. Waiting is the browser's job (HTTP
    503 with ``Retry-After``).

    Raises:
        SlotBusy: every slot is held right now.
    """
    for number in range(slots):
        fd = os.open(directory / f"export-{number}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield number
        finally:
            os.close(fd)  # releases the lock
        return
    raise SlotBusy


# ---------------------------------------------------------------------------------------------------------------
# Failed logins
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleRules:
    """How many password checks may fail, per client and in total, before further attempts are refused unchecked.

    Defaults: 5 failures per client address in 5 minutes; 30 failures in one minute for all clients together. A
    password check costs about 0.1 s of CPU (werkzeug's scrypt), so the global rule caps what an attacker with many
    addresses can burn at about 5 % of one core; the price is that, during such an attack, a new editor login may
    have to wait a minute (an editor already logged in is not checked again, see :mod:`dashboard.web.auth`).
    """

    per_client: int = 5
    client_window_s: float = 300.0
    total: int = 30
    total_window_s: float = 60.0


class LoginThrottle:
    """Counts password checks per client in a SQLite file shared by the workers (see the module docstring).

    An attempt is recorded *before* the password is checked (:meth:`begin`) and forgotten if it succeeds
    (:meth:`succeeded`): concurrent attempts count at once, so no burst of parallel requests gets past the limit.
    """

    def __init__(self, path: Path, rules: ThrottleRules | None = None):
        self.path = Path(path)
        self.rules = rules or ThrottleRules()
        with contextlib.closing(self._connect()) as db:
            db.execute("CREATE TABLE IF NOT EXISTS tentatives (client TEXT NOT NULL, instant REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS tentatives_client ON tentatives (client, instant)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def begin(self, client: str, now: float | None = None) -> tuple[int | None, float]:
        """Record an attempt of ``client`` if allowed: (attempt id, 0) — or (None, seconds to wait) when refused."""
        now = time.time() if now is None else now
        rules = self.rules
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            oldest = now - max(rules.client_window_s, rules.total_window_s)
            db.execute("DELETE FROM tentatives WHERE instant < ?", (oldest,))
            mine = db.execute(
                "SELECT COUNT(*), MIN(instant) FROM tentatives WHERE client = ? AND instant >= ?",
                (client, now - rules.client_window_s),
            ).fetchone()
            total = db.execute(
                "SELECT COUNT(*), MIN(instant) FROM tentatives WHERE instant >= ?", (now - rules.total_window_s,)
            ).fetchone()
            wait = 0.0
            if mine[0] >= rules.per_client:
                wait = max(wait, mine[1] + rules.client_window_s - now)
            if total[0] >= rules.total:
                wait = max(wait, total[1] + rules.total_window_s - now)
            if wait > 0:
                db.execute("COMMIT")
                return None, wait
            attempt = db.execute("INSERT INTO tentatives VALUES (?, ?)", (client, now)).lastrowid
            db.execute("COMMIT")
            return attempt, 0.0
        finally:
            db.close()

    def succeeded(self, attempt: int) -> None:
        """Forget a successful attempt (a good password does not count against its client)."""
        with contextlib.closing(self._connect()) as db:
            db.execute("DELETE FROM tentatives WHERE rowid = ?", (attempt,))

    def failures(self, client: str, now: float | None = None) -> int:
        """Failed attempts of ``client`` still counted (for tests and the log)."""
        now = time.time() if now is None else now
        with contextlib.closing(self._connect()) as db:
            row = db.execute(
                "SELECT COUNT(*) FROM tentatives WHERE client = ? AND instant >= ?",
                (client, now - self.rules.client_window_s),
            ).fetchone()
        return int(row[0])
