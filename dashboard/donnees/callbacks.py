"""Callbacks of the « Données » page: upload → validation report → confirm → rebuild progress; versions; restore.

Each callback is a thin wrapper around a plain function taking the settings explicitly (tested directly). The server
keeps no state between requests: the staging token of an upload lives in the browser (``dcc.Store``) and the rebuild
status in a file any worker reads (:mod:`geodata.rebuild`). Every output id starts with ``donnees-``, so
:mod:`dashboard.web.auth` refuses these requests to anonymous users when authentication is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dash import ALL, Input, NoUpdate, Output, State, callback, ctx, no_update
from dash.development.base_component import Component

from dashboard.core import ids
from dashboard.core.runtime import current
from dashboard.donnees.page import (
    RESTORE_TYPE,
    has_blocking,
    make_layers,
    make_progress,
    make_report,
    make_versions,
    reload_notice,
)
from geodata.bundle import BundleError, read_manifest
from geodata.errors import DataError, Problem
from geodata.importers import ImportContext
from geodata.manifest import Manifest
from geodata.rebuild import (
    RUNNING,
    current_version,
    list_bundle_versions,
    rebuild_status,
    request_rebuild,
    restore,
    resume_restore,
)
from geodata.settings import Settings
from geodata.upload import UploadLimits, commit_staged, decode_upload_contents, save_upload, validate_staged


@dataclass(frozen=True)
class UploadOutcome:
    """What one upload gave: the staging token (None when no file was accepted), files kept, every problem."""

    token: str | None
    files: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def can_commit(self) -> bool:
        """Confirm is allowed only for a staged batch with no blocking problem (refused files included)."""
        return bool(self.token and self.files) and not has_blocking(self.problems)


@lru_cache(maxsize=4)
def import_context(departement: str) -> ImportContext:
    """Validation context of a département (the commune base is read once per process)."""
    from geodata.communes import load_commune_base

    return ImportContext(departement, load_commune_base(departement).communes)


def process_upload(
    contents: list[str] | str | None,
    filenames: list[str] | str | None,
    caf_dir: Path,
    ctx_: ImportContext,
    limits: UploadLimits,
) -> UploadOutcome:
    """Stage every uploaded file of one drop in a new batch, then validate the batch. Nothing in ``caf_dir`` changes.

    A refused file (type, size, name, HTML…) is reported and left out; the others are still checked.
    """
    contents = [contents] if isinstance(contents, str) else list(contents or [])
    filenames = [filenames] if isinstance(filenames, str) else list(filenames or [])
    filenames += [""] * (len(contents) - len(filenames))
    token: str | None = None
    files: list[str] = []
    problems: list[Problem] = []
    for content, name in zip(contents, filenames, strict=False):
        try:
            data = decode_upload_contents(content, name)
            path = save_upload(name, data, caf_dir, limits, token=token)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        token = path.parent.name
        if path.name not in files:
            files.append(path.name)
    if token:
        problems.extend(validate_staged(token, ctx_, caf_dir))
    return UploadOutcome(token, tuple(files), tuple(problems))


def commit_and_rebuild(token: str | None, settings: Settings) -> tuple[str, bool]:
    """Move the validated batch into the CAF directory and have it built; (French message, a rebuild is coming).

    A rebuild already running is not an obstacle: the batch is queued and built as soon as it ends.
    """
    if not token:
        return "Déposez d'abord un fichier et attendez le rapport de vérification.", False
    try:
        resume_restore(settings)  # an interrupted restore is finished before the CAF directory changes again
        committed = commit_staged(token, Path(settings.caf_dir))
    except DataError as exc:
        return f"Rien n'a été enregistré : {exc}", False
    names = ", ".join(p.name for p in committed)
    saved = f"{'Fichiers enregistrés' if len(committed) > 1 else 'Fichier enregistré'} : {names}"
    if request_rebuild(settings):
        return f"{saved}. Reconstruction lancée…", True
    return (
        f"{saved}. Une reconstruction est déjà en cours : une nouvelle reconstruction "
        "les intégrera automatiquement dès qu'elle sera finie.",
        True,
    )


def current_manifest(settings: Settings, loaded: Manifest) -> Manifest:
    """Manifest of the bundle on disk (what a rebuild produced), else of the bundle the app was built from."""
    try:
        return read_manifest(Path(settings.bundle))
    except (BundleError, OSError):
        return loaded


def status_view(settings: Settings, loaded_manifest: Manifest, loaded_version: str) -> tuple[Any, ...]:
    """Progress, polling off?, versions, layers and « nouveau bundle » notice: everything the page refreshes."""
    status = rebuild_status(settings)
    running = status.get("state") == RUNNING
    return (
        make_progress(status),
        not running,
        make_versions(list_bundle_versions(settings), str(settings.bundle)),
        make_layers(current_manifest(settings, loaded_manifest)),
        reload_notice(loaded_version, current_version(settings)),
    )


def restore_version(settings: Settings, name: object) -> str:
    """Restore a version by name (never a path); French message either way."""
    try:
        restore(settings, str(name))
    except BundleError as exc:
        return f"Restauration refusée : {exc}"
    return (
        f"Version {name} restaurée, avec les extraits Caf dont elle avait été construite (ceux qu'ils remplacent sont "
        "archivés) : la carte l'affiche d'ici quelques secondes, rechargez la page."
    )


@callback(
    Output(ids.DONNEES_TOKEN, "data"),
    Output(ids.DONNEES_REPORT, "children"),
    Output(ids.DONNEES_CONFIRM, "disabled"),
    Output(ids.DONNEES_MESSAGE, "children", allow_duplicate=True),
    Input(ids.DONNEES_UPLOAD, "contents"),
    State(ids.DONNEES_UPLOAD, "filename"),
    prevent_initial_call=True,
)
def on_upload(
    contents: list[str] | None, filenames: list[str] | None
) -> tuple[Any, Component | NoUpdate, bool | NoUpdate, str | NoUpdate]:
    """Each drop starts a new batch: staged, validated, reported; confirm enabled only without blocking error."""
    if not contents:
        return no_update, no_update, no_update, no_update
    runtime = current()
    settings = runtime.settings
    outcome = process_upload(
        contents, filenames, Path(settings.caf_dir), import_context(settings.departement), runtime.upload_limits
    )
    return outcome.token, make_report(outcome.problems, outcome.files), not outcome.can_commit, ""


@callback(
    Output(ids.DONNEES_MESSAGE, "children"),
    Output(ids.DONNEES_CONFIRM, "disabled", allow_duplicate=True),
    Output(ids.DONNEES_TOKEN, "data", allow_duplicate=True),
    Output(ids.DONNEES_INTERVAL, "disabled", allow_duplicate=True),
    Input(ids.DONNEES_CONFIRM, "n_clicks"),
    State(ids.DONNEES_TOKEN, "data"),
    prevent_initial_call=True,
)
def on_confirm(n_clicks: int, token: str | None) -> tuple[str | NoUpdate, bool | NoUpdate, Any, bool | NoUpdate]:
    """Commit the batch and launch the rebuild; polling starts when it is running."""
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    message, started = commit_and_rebuild(token, current().settings)
    return message, True, None if started else no_update, not started


@callback(
    Output(ids.DONNEES_PROGRESS, "children"),
    Output(ids.DONNEES_INTERVAL, "disabled"),
    Output(ids.DONNEES_VERSIONS, "children"),
    Output(ids.DONNEES_LAYERS, "children"),
    Output(ids.DONNEES_RELOAD, "children"),
    Input(ids.DONNEES_PAGE, "hidden"),
    Input(ids.DONNEES_INTERVAL, "n_intervals"),
    Input(ids.DONNEES_RESTORE_MESSAGE, "children"),
    prevent_initial_call=True,
)
def refresh_status(hidden: bool, _n: int, _restored: Any) -> tuple[Any, ...]:
    """Filled when the page is shown (never on the map page), polled while a rebuild runs, after a restore."""
    if hidden:
        return (no_update,) * 5
    runtime = current()
    served = runtime.served
    return status_view(runtime.settings, served.manifest, served.version)


@callback(
    Output(ids.DONNEES_RESTORE_MESSAGE, "children"),
    Input({"type": RESTORE_TYPE, "version": ALL}, "submit_n_clicks"),
    prevent_initial_call=True,
)
def on_restore(clicks: list[int | None]) -> str | NoUpdate:
    """Restore the version whose « Restaurer » was confirmed."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        return no_update
    return restore_version(current().settings, trigger.get("version", ""))
