"""Rebuild the territory bundle from the web app, in a separate process, with progress any worker can read.

Why a separate process: a build takes seconds to minutes and much memory; it must not block (or die with) the
gunicorn worker that received the click. :func:`start_rebuild` launches ``python -m geodata.rebuild`` and returns at
once; the child runs :func:`geodata.build.build_bundle` and writes its progress to a JSON status file beside the
versions (``<bundle>.versions/rebuild-status.json``: ``state`` running/ok/failed, ``lines``, ``started``,
``finished``, ``version``, ``pid``). Every worker reads that file, so progress shows whichever worker answers.

A lock file (``<bundle>.versions/rebuild.lock``, holding the child's pid) refuses a second concurrent rebuild; a lock
whose process is dead (killed, machine restarted) is stale and ignored. The build itself is atomic
(:mod:`geodata.build`): a killed rebuild leaves the current bundle as it was.

A file confirmed while a rebuild runs is not lost: :func:`request_rebuild` leaves a flag
(``<bundle>.versions/rebuild.pending``) that the running child sees when it finishes, and it builds again at once.

The CAF directory and the bundle never disagree: each version keeps a copy of the CAF files it was built from
(:data:`geodata.build.CAF_COPY`), and :func:`restore` puts exactly those back in the CAF directory (the others are
archived in ``.archive/``), so the next rebuild cannot bring a rolled-back extract back. The restore is journalled
(``<caf>/.restauration.json``): if it is interrupted, the next restore, rebuild or upload finishes it first.

Workers notice a new bundle by comparing :func:`current_version` (the directory the ``bundle`` symlink points to)
with the one they loaded, and reload without a restart.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geodata.build import CAF_COPY, build_bundle, caf_managed_files, list_versions, restore_version
from geodata.bundle import BundleError, load_bundle, read_manifest
from geodata.settings import PROJECT_ROOT, Settings
from geodata.upload import ARCHIVE, caf_dir_lock

STATUS_FILE = "rebuild-status.json"
LOCK_FILE = "rebuild.lock"
PENDING_FILE = "rebuild.pending"
"""Written when a rebuild is asked while one runs: the running one builds again when it finishes."""
JOURNAL = ".restauration.json"
"""In the CAF directory while a restore puts a version's extracts back (finished by the next operation if cut)."""
MAX_LINES = 500
"""Progress lines kept in the status file (a national build prints a few hundred at most)."""

RUNNING, OK, FAILED = "running", "ok", "failed"


class RebuildBusy(RuntimeError):
    """A rebuild is already running (French message for the page)."""


def versions_dir(settings: Settings) -> Path:
    """Directory of the bundle versions, where the status and lock files live too."""
    bundle = Path(settings.bundle)
    return bundle.parent / f"{bundle.name}.versions"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomic write (temporary file + rename): a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (a zombie is not). A pid recycled by the system after a crash would keep
    the lock: delete ``rebuild.lock`` by hand in that rare case."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except (OSError, IndexError):
        return True  # no /proc (macOS): trust kill()


def _lock_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):  # absent, empty (being written) or garbage
        return None


def _acquire(lock: Path) -> int:
    """Create the lock exclusively (holding our pid until the child's replaces it); stale locks are taken over."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _lock_pid(lock)
            if pid is None:
                # Being written right now by another worker, or garbage: garbage only if old.
                try:
                    fresh = time.time() - lock.stat().st_mtime < 5
                except FileNotFoundError:
                    continue
                if fresh:
                    raise RebuildBusy("Une reconstruction est déjà en cours.") from None
            elif _pid_alive(pid):
                raise RebuildBusy(f"Une reconstruction est déjà en cours (processus {pid}).") from None
            lock.unlink(missing_ok=True)
            continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return os.getpid()
    raise RebuildBusy("Une reconstruction est déjà en cours.")


def request_rebuild(settings: Settings) -> bool:
    """Ask for a rebuild that includes the CAF directory as it is now: True when it starts now, False when it is
    queued behind the running one (which builds again as soon as it ends)."""
    versions = versions_dir(settings)
    versions.mkdir(parents=True, exist_ok=True)
    (versions / PENDING_FILE).write_text(_now(), encoding="utf-8")
    try:
        start_rebuild(settings)
    except RebuildBusy:
        return False
    return True


def start_rebuild(settings: Settings) -> str:
    """Launch a rebuild in a child process and return at once; returns the start time (status ``started``).

    Raises:
        RebuildBusy: another rebuild is running.
    """
    versions = versions_dir(settings)
    versions.mkdir(parents=True, exist_ok=True)
    lock = versions / LOCK_FILE
    _acquire(lock)
    try:
        resume_restore(settings)
    except BaseException:
        lock.unlink(missing_ok=True)
        raise
    started = _now()
    status = {"state": RUNNING, "lines": ["Reconstruction demandée…"], "started": started, "finished": None}
    status.update(version=None, pid=None)
    try:
        _write_json(versions / STATUS_FILE, status)
        cmd = [
            sys.executable,
            "-m",
            "geodata.rebuild",
            "--out",
            str(settings.bundle),
            "--departement",
            settings.departement,
            "--sources",
            str(settings.sources_dir),
            *(arg for extra in settings.sources_extra for arg in ("--sources-extra", str(extra))),
            "--arrondissements",
            settings.arrondissements,
            "--caf",
            str(settings.caf_dir),
            "--started",
            started,
            "--parent",
            str(os.getpid()),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        log = (versions / "rebuild.log").open("wb")  # output of the last rebuild, for the administrator
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=PROJECT_ROOT, env=env, start_new_session=True
        )
        log.close()
    except BaseException:
        lock.unlink(missing_ok=True)
        raise
    if _lock_pid(lock) == os.getpid():  # unless the child already finished and removed it
        lock.write_text(str(proc.pid))
    # Reap the child when it ends, so it never lingers as a zombie (which would look alive to the lock check).
    threading.Thread(target=proc.wait, name="ctg-carto-rebuild-reaper", daemon=True).start()
    return started


def rebuild_status(settings: Settings) -> dict[str, Any]:
    """Status of the last rebuild (``state`` is ``none`` when there never was one).

    A status still « running » whose process has died (killed, server restarted) is reported « failed ».
    """
    path = versions_dir(settings) / STATUS_FILE
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": "none", "lines": [], "started": None, "finished": None, "version": None}
    if status.get("state") == RUNNING:
        lock = versions_dir(settings) / LOCK_FILE
        pid = status.get("pid") or _lock_pid(lock)
        if (pid is None and not lock.exists()) or (pid is not None and not _pid_alive(pid)):
            status["state"] = FAILED
            status["lines"] = [*status.get("lines", []), "Reconstruction interrompue (processus arrêté)."]
    result: dict[str, Any] = status
    return result


def current_version(settings: Settings) -> str:
    """Name of the version directory the bundle currently points to ("" when there is none).

    Why: each worker compares it with the version it loaded and reloads the bundle when it changed.
    """
    bundle = Path(settings.bundle)
    if not bundle.exists():
        return ""
    return bundle.resolve().name


def list_bundle_versions(settings: Settings) -> list[dict[str, Any]]:
    """Complete versions, newest first: ``name``, ``built_at``, ``layers``, ``synthetic``, ``current``."""
    current = current_version(settings)
    rows = []
    for path in reversed(list_versions(Path(settings.bundle))):
        try:
            manifest = read_manifest(path)
        except BundleError:
            continue
        rows.append(
            {
                "name": path.name,
                "built_at": manifest.built_at,
                "layers": len(manifest.layers),
                "synthetic": manifest.synthetic,
                "current": path.name == current,
            }
        )
    return rows


def _caf_sources(version: Path, caf_dir: Path) -> dict[str, str]:
    """Name → path of each CAF file a version was built from: its own copy, or (versions built before the copy
    existed) the file with the same checksum found in the CAF directory or its archive.

    Raises:
        BundleError: a file of the version cannot be found (restoring would let the next rebuild disagree).
    """
    manifest = read_manifest(version)
    copy = manifest.caf_extracts
    if copy is not None:
        folder = version / (copy.dossier or CAF_COPY)
        files = {f.name: folder / Path(f.name).name for f in copy.fichiers}
        lost = sorted(name for name, path in files.items() if not path.is_file())
        if lost:
            raise BundleError(f"Copie des extraits Caf de la version {version.name} incomplète ({', '.join(lost)}).")
        return {name: str(path) for name, path in files.items()}
    wanted = {f.sha256: f.name for info in manifest.layers.values() if info.kind == "caf" for f in info.input_files}
    found: dict[str, str] = {}
    candidates = [*caf_managed_files(caf_dir), *sorted(Path(caf_dir).glob(f"{ARCHIVE}/*/*"))]
    for path in candidates:
        if path.is_file() and len(found) < len(wanted):
            digest = _sha256(path)
            if digest in wanted and wanted[digest] not in found:
                found[wanted[digest]] = str(path)
    missing = sorted(set(wanted.values()) - set(found))
    if missing:
        raise BundleError(
            f"La version {version.name} ne garde pas de copie de ses extraits Caf et {', '.join(missing)} est "
            "introuvable (dossier Caf et archives) : la restaurer laisserait la prochaine reconstruction repartir "
            "d'autres extraits. Restauration refusée."
        )
    synthetic = any(info.synthetic for info in manifest.layers.values() if info.kind == "caf")
    if synthetic:
        found["DONNEES_FICTIVES.txt"] = ""  # recreated empty: the marker's presence is what counts
    return found


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _apply_restore(settings: Settings, journal: dict[str, Any]) -> None:
    """Bring the CAF directory to the journal's files, then point the bundle at the version (idempotent: a cut
    restore is finished by running this again)."""
    caf_dir = Path(settings.caf_dir)
    version = Path(journal["version_dir"])
    files: dict[str, str] = journal["files"]
    caf_dir.mkdir(parents=True, exist_ok=True)
    with caf_dir_lock(caf_dir):
        archive = caf_dir / ARCHIVE / journal["archive"]
        for path in caf_managed_files(caf_dir):
            source = files.get(path.name)
            if source is None or (source and _sha256(path) != _sha256(Path(source))):
                archive.mkdir(parents=True, exist_ok=True)
                path.replace(archive / path.name)
        for name, source in files.items():
            target = caf_dir / name
            if target.exists():
                continue
            tmp = caf_dir / f".{name}.restauration"
            if source:
                shutil.copyfile(source, tmp)
            else:
                tmp.write_text("Données fictives (remises par la restauration d'une version fictive).\n", "utf-8")
            os.replace(tmp, target)
        restore_version(Path(settings.bundle), version)
        (versions_dir(settings) / PENDING_FILE).unlink(missing_ok=True)
        (caf_dir / JOURNAL).unlink(missing_ok=True)


def resume_restore(settings: Settings) -> bool:
    """Finish a restore that was interrupted (journal left in the CAF directory); True if there was one."""
    path = Path(settings.caf_dir) / JOURNAL
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return False
    if not Path(journal.get("version_dir", "")).is_dir():
        path.unlink(missing_ok=True)
        return False
    _apply_restore(settings, journal)
    return True


def restore(settings: Settings, version_name: str) -> str:
    """Make version ``version_name`` (a name from :func:`list_bundle_versions`) current again, with the CAF
    extracts it was built from (the current ones are archived); returns the name.

    Raises:
        BundleError: unknown name (never a path: ``..`` or ``/`` are refused), unreadable version, extracts of the
            version not found, or a rebuild runs.
    """
    by_name = {p.name: p for p in list_versions(Path(settings.bundle))}
    if version_name not in by_name:
        raise BundleError(f"Version de bundle inconnue : « {version_name} ».")
    if rebuild_status(settings).get("state") == RUNNING:
        raise BundleError("Une reconstruction est en cours : attendez sa fin avant de restaurer une version.")
    lock = versions_dir(settings) / LOCK_FILE
    try:
        _acquire(lock)  # no rebuild may start while the CAF directory and the bundle are being switched
    except RebuildBusy:
        raise BundleError("Une reconstruction est en cours : attendez sa fin avant de restaurer une version.") from None
    try:
        resume_restore(settings)
        version = by_name[version_name]
        load_bundle(version)
        journal = {
            "version": version_name,
            "version_dir": str(version),
            "files": _caf_sources(version, Path(settings.caf_dir)),
            "archive": datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-restauration",
        }
        Path(settings.caf_dir).mkdir(parents=True, exist_ok=True)
        _write_json(Path(settings.caf_dir) / JOURNAL, journal)
        _apply_restore(settings, journal)
    finally:
        if _lock_pid(lock) == os.getpid():
            lock.unlink(missing_ok=True)
    return version_name


def _run(
    out: Path,
    departement: str,
    sources: Path,
    caf: Path,
    started: str,
    parent: int = 0,
    extra: tuple[Path, ...] = (),
    arrondissements: str = "auto",
) -> int:
    """Body of the child process: build, writing every progress line to the status file; build again while files
    were confirmed during the build (:data:`PENDING_FILE`)."""
    versions = out.parent / f"{out.name}.versions"
    status_path = versions / STATUS_FILE
    lock = versions / LOCK_FILE
    pending = versions / PENDING_FILE
    status: dict[str, Any] = {"state": RUNNING, "lines": [], "started": started, "finished": None}
    status.update(version=None, pid=os.getpid())

    def progress(message: str) -> None:
        status["lines"] = [*status["lines"], message][-MAX_LINES:]
        _write_json(status_path, status)

    lock.write_text(str(os.getpid()))
    code = 1
    while True:
        pending.unlink(missing_ok=True)  # this build reads the CAF directory as it is from now on
        code = _build_once(out, departement, sources, caf, status, progress, extra, arrondissements)
        if not pending.exists():
            status["finished"] = _now()
            _write_json(status_path, status)
            if _lock_pid(lock) in {os.getpid(), parent}:
                lock.unlink(missing_ok=True)
            # A request arriving between the check and the release found the lock taken: take it back for it.
            if not pending.exists():
                return code
            try:
                _acquire(lock)
            except RebuildBusy:
                return code
        status.update(state=RUNNING, finished=None)
        progress("Extrait(s) confirmé(s) pendant la reconstruction : nouvelle reconstruction pour les intégrer…")


def _build_once(
    out: Path,
    departement: str,
    sources: Path,
    caf: Path,
    status: dict[str, Any],
    progress: Callable[[str], None],
    extra: tuple[Path, ...] = (),
    arrondissements: str = "auto",
) -> int:
    progress(f"Reconstruction du bundle {out} (sources : {sources} ; extraits Caf : {caf})")
    try:
        report = build_bundle(
            out,
            departement=departement,
            sources_dir=sources,
            caf_dir=caf,
            progress=progress,
            extra_sources=extra,
            arrondissements=arrondissements,
        )
        for problem in report.problems:
            status["lines"].append(f"{problem.severity.upper()} — {problem}")
        if report.ok and report.version_dir is not None:
            status.update(state=OK, version=report.version_dir.name)
            status["lines"].append(f"Bundle reconstruit en {report.seconds:.1f} s : version {report.version_dir.name}")
            return 0
        status["state"] = FAILED
        status["lines"].append("Échec : aucun changement, le bundle actuel est conservé.")
    except Exception as exc:  # report any crash to the page, then fail
        status["state"] = FAILED
        status["lines"].append(f"Échec inattendu : {type(exc).__name__}: {exc}. Le bundle actuel est conservé.")
    return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child process (``python -m geodata.rebuild``)."""
    parser = argparse.ArgumentParser(prog="python -m geodata.rebuild")
    parser.add_argument("--out", required=True)
    parser.add_argument("--departement", required=True)
    parser.add_argument("--sources", required=True)
    parser.add_argument("--sources-extra", action="append", default=[])
    parser.add_argument("--arrondissements", default="auto")
    parser.add_argument("--caf", required=True)
    parser.add_argument("--started", default="")
    parser.add_argument("--parent", type=int, default=0, help="pid of the launching worker (lock owner until now)")
    args = parser.parse_args(argv)
    started = args.started or _now()
    extra = tuple(Path(p) for p in args.sources_extra)
    return _run(
        Path(args.out),
        args.departement,
        Path(args.sources),
        Path(args.caf),
        started,
        args.parent,
        extra,
        args.arrondissements,
    )


if __name__ == "__main__":
    sys.exit(main())
