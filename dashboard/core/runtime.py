"""The runtime of one app: its settings and the bundle it serves, reached through one accessor, :func:`current`.

Why one frozen object: callbacks, routes and exports all need the settings and the read-only model of the bundle
being served. Each app keeps one :class:`Runtime` in its Flask ``extensions`` (so two apps in one process, as in the
tests, never share it; gunicorn ``--preload`` workers share one copy). What changes while the app runs — a newly
built bundle switched in by :class:`LiveBundle` — is one :class:`Served` record replaced in a single assignment, so
a request sees either the old bundle or the new one, never half of each. Read ``current().served`` once per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import flask
from dash.development.base_component import Component

from dashboard.core.model import DashboardModel
from geodata.bundle import Bundle, BundleError, load_bundle
from geodata.manifest import Manifest
from geodata.settings import Settings
from geodata.upload import UploadLimits

LOG = logging.getLogger(__name__)
EXTENSION = "ctg_carto"
"""The one key of the app's Flask ``extensions``: its :class:`Runtime`."""


@dataclass(frozen=True)
class Served:
    """Everything derived from one bundle: replaced as a whole when a new bundle is switched in."""

    model: DashboardModel
    manifest: Manifest
    version: str
    """Name of the bundle version directory served (``""`` for a bundle that is not a managed symlink)."""
    layout: Component
    """The whole page for this bundle (built once per bundle)."""


class LiveBundle:
    """Switch a running worker to a newly built bundle, without restart.

    ``ctg-carto data build`` (or the « Données » page) swaps the bundle symlink atomically. Before serving a request,
    each worker checks — at most once a second, a ``resolve()`` of the symlink — whether it now points to another
    version; if so it loads it and builds its :class:`Served` record (indicators, model, layout), then replaces
    :attr:`served` in one assignment. A bundle that fails to load is logged and skipped: the worker keeps serving the
    previous one. Pages already open keep their view until reloaded (their geometry URLs carry the old hash, still
    served by workers that have not switched yet, or 404 afterwards).
    """

    CHECK_SECONDS = 1.0

    def __init__(self, watch: Path | None, served: Served, build: Callable[[Bundle], Served]):
        self.watch = watch
        self.served = served
        self.build = build
        self.target = self._target()
        self.refused = ""
        self.checked = time.monotonic()
        self.lock = threading.Lock()

    def _target(self) -> str:
        return str(self.watch.resolve()) if self.watch is not None else ""

    def current_layout(self) -> Component:
        """Layout of the bundle currently served (Dash calls this for each page load)."""
        return self.served.layout

    def maybe_reload(self) -> None:
        """``before_request`` hook: switch to the new bundle when the symlink has moved."""
        if self.watch is None or time.monotonic() - self.checked < self.CHECK_SECONDS:
            return
        self.checked = time.monotonic()
        target = self._target()
        if target in (self.target, self.refused) or not self.lock.acquire(blocking=False):
            return
        try:
            self._switch(target)
        finally:
            self.lock.release()

    def _switch(self, target: str) -> None:
        try:
            served = self.build(load_bundle(target))
        except BundleError as exc:
            LOG.error("nouveau bundle refusé, le précédent reste servi : %s", exc)
            self.refused = target
            return
        self.served = served  # one assignment: a request sees the old bundle or the new one, never a mix
        self.target = target
        LOG.info("bundle %s chargé sans redémarrage", target)


@dataclass(frozen=True)
class Runtime:
    """What an app needs at run time besides its code (see the module docstring)."""

    settings: Settings
    live: LiveBundle
    upload_limits: UploadLimits
    """Limits of the files uploaded on the « Données » page."""
    slots_dir: Path
    """Private directory of the limits shared by the workers (export slots), :func:`dashboard.web.limits.run_dir`."""

    @property
    def served(self) -> Served:
        """The bundle served right now (read it once per request)."""
        return self.live.served


def install(server: flask.Flask, runtime: Runtime) -> None:
    """Give ``server`` its runtime (once, by :func:`dashboard.app.create_app`)."""
    server.extensions[EXTENSION] = runtime


def of(server: flask.Flask) -> Runtime:
    """The runtime of ``server`` (outside a request: tests, benchmarks).

    Raises:
        RuntimeError: the server was not made by :func:`dashboard.app.create_app`.
    """
    runtime = server.extensions.get(EXTENSION)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("application sans runtime ctg-carto (créez-la avec dashboard.app.create_app)")
    return runtime


def current() -> Runtime:
    """The runtime of the app serving this request."""
    return of(flask.current_app)


def current_model() -> DashboardModel:
    """The model of the bundle served to this request."""
    return current().served.model
