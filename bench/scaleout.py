"""Scale-out as an IT department deploys it: two gunicorn instances sharing one bundle behind Debian's nginx.

    python -m bench.run scaleout [--users 50 200] [--workers 2] [--phase-seconds 20] [--think meeting none]

Each instance is started exactly as the ``Procfile`` says (:func:`bench.load.local_command`), on its own loopback
port with its own gunicorn ``--control-socket``, both reading the same bundle symlink; nginx runs the site
configuration of ``docs/deploiement/nginx-ctg-carto.conf`` (:mod:`bench.nginx`). The load client of
:mod:`bench.load` (same meeting workflow, same Dash requests) goes through nginx, with ``Accept-Encoding: gzip`` as a
browser sends it, and either with a meeting's think time (2 to 8 s between actions: opening the page, changing the
EPCI, opening a commune card, changing the indicator) or with none (closed loop, as ``bench.run load``).

Every run goes through five phases, each request filed under the phase in which it started:

- ``stable``: both instances up;
- ``bascule``: the bundle symlink is flipped to another version (``geodata.build.restore_version``, the same atomic
  switch as ``ctg-carto data build``); each worker loads it by itself at its next request (``LiveBundle``). Users who
  reload the page then get the new layout and use its choices;
- ``panne``: one instance is killed with SIGKILL, master and workers (its process group), with requests in flight;
- ``redemarrage``: the same command starts it again on the same port, until it answers;
- ``retablie``: both instances up again.

Reported per phase: requests, errors (HTTP status ≥ 400 or no answer), 204 (callback that changed nothing: a page of
one version asking a worker of the other), requests/s, p50/p95/p99; the requests in flight at the kill and what they
got; the « mixed » window (last answer from the old layout after the swap); and from nginx's access log the requests
it replayed on the other instance. The two bundle versions are built once: the public sources of the département
alone, then the same plus the fictitious CAF extract of ``ctg-carto data demo`` (more layers and indicators).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import PROCFILE, Workflow, _percentiles, free_port, local_command, request
from bench.nginx import nginx, nginx_summary

THINK = {"meeting": (2.0, 8.0), "none": None}
"""Seconds between two actions of a user: a meeting (someone talks, then clicks) or none (closed loop)."""
PAGE = ("index", "layout", "dependencies", "geo")
ACTIONS = {"epci_map": "epci", "epci_table": "epci", "commune_card": "commune"}
"""Requests that the browser sends together for one action (the rest of the indicator change is one action too)."""
PHASES = ("stable", "bascule", "panne", "redemarrage", "retablie")
HEADERS = {"Accept-Encoding": "gzip"}


# --- the two instances ---------------------------------------------------------------------------------------------


@dataclass
class Instance:
    """One gunicorn of the Procfile on a fixed loopback port (kept across a restart, as nginx's upstream says)."""

    name: str
    port: int
    workers: int
    bundle: Path
    root: Path
    secret: str
    proc: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        """Start (or restart) it, as the Procfile says, with its own control socket; do not wait."""
        env = {
            **os.environ,
            "CTG_CARTO_BUNDLE": str(self.bundle),
            "CTG_CARTO_PROXIES": "1",  # behind nginx, as documented
            "CTG_CARTO_SECRET_KEY": self.secret,  # the same for every instance
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_CMD_ARGS": f"--control-socket {self.root / (self.name + '.ctl')}",
        }
        env.pop("CTG_CARTO_DEBUG", None)
        self.starts += 1
        with (self.root / f"{self.name}.log").open("ab") as log:
            self.proc = subprocess.Popen(
                local_command(PROCFILE, self.port, self.workers),
                cwd=PROCFILE.parent,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: master and workers killed together
            )

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Seconds until ``/`` answers 200 on its own port."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} s'est arrêté :\n{self.log_tail()}")
            try:
                if request(self.port, "GET", "/", timeout=5)[0] == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} ne répond pas après {timeout:.0f} s :\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to master and workers at once (a crash, an OOM kill, a pulled cable: nothing is finished)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """Quick shutdown (SIGINT), then SIGKILL to what remains of the group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # workers left behind by a master that did not finish
        self.proc.wait()

    def log_size(self) -> int:
        """Bytes gunicorn wrote so far (to read one run's lines)."""
        path = self.root / f"{self.name}.log"
        return path.stat().st_size if path.exists() else 0

    def log_problems(self, offset: int) -> list[str]:
        """Lines written after ``offset`` that report a problem (error, traceback, worker timeout or kill)."""
        path = self.root / f"{self.name}.log"
        if not path.exists():
            return []
        with path.open(encoding="utf-8", errors="replace") as fh:
            fh.seek(offset)
            lines = fh.read().splitlines()
        marks = ("ERROR", "CRITICAL", "Traceback", "WORKER TIMEOUT", "refusé")
        return [f"{self.name}: {line[:200]}" for line in lines if any(m in line for m in marks)]

    def log_tail(self) -> str:
        """End of what gunicorn wrote."""
        path = self.root / f"{self.name}.log"
        return path.read_text(encoding="utf-8", errors="replace")[-3000:] if path.exists() else ""


# --- the bundle versions -------------------------------------------------------------------------------------------


def build_versions(root: Path, departement: str) -> tuple[Path, Path, Path]:
    """Two versions of one bundle ``root/bundle``: public sources only, then with the fictitious CAF extract.

    Built with the command line, as an administrator does. Returns ``(bundle symlink, version 1, version 2)``; the
    symlink is left on version 1.
    """
    from geodata.build import list_versions, restore_version

    cli = [sys.executable, "-m", "dashboard.cli"]
    bundle, empty, caf = root / "bundle", root / "caf-vide", root / "caf-demo"
    empty.mkdir(parents=True, exist_ok=True)
    quiet = {"stdout": subprocess.DEVNULL, "check": True, "cwd": PROCFILE.parent}
    subprocess.run(
        [*cli, "data", "build", "--departement", departement, "--caf", str(empty), "--out", str(bundle)], **quiet
    )
    subprocess.run([*cli, "data", "demo", "--departement", departement, "--out", str(caf)], **quiet)
    subprocess.run(
        [*cli, "data", "build", "--departement", departement, "--caf", str(caf), "--out", str(bundle)], **quiet
    )
    first, second = list_versions(bundle)[-2:]
    restore_version(bundle, first)
    return bundle, first, second


# --- the users -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request as the client saw it (monotonic clock)."""

    kind: str
    start: float
    end: float
    status: int
    """HTTP status, 0 when no answer came (refused, reset, timeout)."""
    wire_bytes: int
    layout: str = ""
    """Digest of the ``/_dash-layout`` answer (which bundle version the page got)."""
    error: str = ""


def _plain(body: bytes) -> bytes:
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


@dataclass
class Pages:
    """Workflows by layout, shared by the users: a page opened after the swap uses the new layout's choices."""

    current: Workflow
    lock: threading.Lock = field(default_factory=threading.Lock)
    known: dict[str, Workflow] = field(default_factory=dict)

    def workflow(self, layout: bytes, dependencies: bytes) -> Workflow:
        """The workflow of a page (the first one when the answers cannot be read)."""
        digest = hashlib.sha1(layout + b"\0" + dependencies).hexdigest()
        with self.lock:
            if digest not in self.known:
                try:
                    self.known[digest] = Workflow.from_responses(layout, dependencies)
                except (ValueError, LookupError):
                    return self.current
            return self.known[digest]


def _send(port: int, kind: str, method: str, path: str, body: bytes | None, out: list[Sample]) -> bytes | None:
    """Send one request, append its sample to ``out``; the decompressed answer when it is a 200."""
    start = time.monotonic()
    try:
        status, data = request(port, method, path, body, timeout=60.0, headers=HEADERS)
    except OSError as exc:
        out.append(Sample(kind, start, time.monotonic(), 0, 0, error=f"{kind}: {type(exc).__name__}: {exc}"))
        return None
    plain = _plain(data)
    error = "" if status < 400 else f"{kind}: HTTP {status} {plain[:100]!r}"
    layout = hashlib.sha1(plain).hexdigest()[:10] if kind == "layout" and status == 200 else ""
    out.append(Sample(kind, start, time.monotonic(), status, len(data), layout, error))
    return plain if status == 200 else None


def _user(
    port: int, pages: Pages, stop: threading.Event, think: tuple[float, float] | None, seed: int, out: list
) -> None:
    """Open the page, then change the EPCI, open a commune card, change the indicator; pause between actions."""
    rng = random.Random(seed)

    def pause() -> None:
        if think:
            stop.wait(rng.uniform(*think))

    if think:
        stop.wait(rng.uniform(0, think[1]))  # users arrive over the first seconds, not all at the same instant
    while not stop.is_set():
        _send(port, "index", "GET", "/", None, out)
        layout = _send(port, "layout", "GET", "/_dash-layout", None, out)
        deps = _send(port, "dependencies", "GET", "/_dash-dependencies", None, out)
        workflow = pages.workflow(layout, deps) if layout and deps else pages.current
        action = ""
        for kind, method, path, body in workflow.steps(rng)[3:]:  # the geometry of this page, then the actions
            if stop.is_set():
                return
            if kind != "geo" and ACTIONS.get(kind, "indicator") != action:
                action = ACTIONS.get(kind, "indicator")
                pause()
                if stop.is_set():
                    return
            _send(port, kind, method, path, body, out)
        pause()


# --- the report ----------------------------------------------------------------------------------------------------


def phase_of(start: float, events: list[tuple[float, str]]) -> str:
    """Name of the phase in which a request started (``events``: phase start times, in order)."""
    name = events[0][1]
    for at, phase in events:
        if start >= at:
            name = phase
    return name


def summarize(samples: list[Sample], events: list[tuple[float, str]], end: float) -> dict[str, Any]:
    """Per-phase figures, the requests in flight at the kill and the mixed-version window after the swap."""
    bounds = {phase: (at, nxt) for (at, phase), (nxt, _) in zip(events, [*events[1:], (end, "")], strict=True)}
    by_phase: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_phase[phase_of(sample.start, events)].append(sample)
    phases = {}
    for phase, (begin, finish) in bounds.items():
        rows = by_phase.get(phase, [])
        seconds = max(finish - begin, 1e-9)
        phases[phase] = {
            "seconds": round(finish - begin, 1),
            "requests": len(rows),
            "errors": sum(1 for s in rows if s.error),
            "no_update_204": sum(1 for s in rows if s.status == 204),
            "requests_per_s": round(len(rows) / seconds, 1),
            **_percentiles([(s.end - s.start) * 1000 for s in rows]),
        }
    at = {phase: t for t, phase in events}
    kill = at.get("panne")
    in_flight = [s for s in samples if kill is not None and s.start < kill < s.end]
    swap = at.get("bascule")
    before = {s.layout for s in samples if s.layout and swap is not None and s.start < swap}
    after = [s for s in samples if s.layout and swap is not None and s.start >= swap]
    old_after = [s.end for s in after if s.layout in before]
    new_after = [s.end for s in after if s.layout not in before]
    per_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        per_kind[sample.kind].append(sample)
    return {
        "phases": phases,
        "requests": len(samples),
        "errors": sum(1 for s in samples if s.error),
        "error_examples": sorted({s.error for s in samples if s.error})[:6],
        "in_flight_at_kill": {
            "requests": len(in_flight),
            "errors": sum(1 for s in in_flight if s.error),
            "p50_ms": _percentiles([(s.end - s.start) * 1000 for s in in_flight]).get("p50_ms") if in_flight else None,
        },
        "swap": {
            "layouts_before": len(before),
            "first_new_layout_s": round(min(new_after) - swap, 2) if new_after else None,
            "last_old_layout_s": round(max(old_after) - swap, 2) if old_after else None,
        },
        "per_kind": {
            kind: {
                "n": len(rows),
                "errors": sum(1 for s in rows if s.error),
                "mean_wire_bytes": round(sum(s.wire_bytes for s in rows) / len(rows)),
                **_percentiles([(s.end - s.start) * 1000 for s in rows]),
            }
            for kind, rows in sorted(per_kind.items())
        },
    }


# --- one run -------------------------------------------------------------------------------------------------------


def run_scaleout(
    front: int,
    instances: list[Instance],
    bundle: Path,
    swap_to: Path,
    users: int,
    think: str,
    phase_seconds: float,
    access_log: Path,
    seed: int = 66,
) -> dict[str, Any]:
    """One run of ``users`` through nginx on port ``front``: ``bundle`` switched to ``swap_to``, then
    ``instances[-1]`` killed and restarted; the figures of the run."""
    from geodata.build import restore_version

    pages = Pages(
        Workflow.from_responses(
            request(front, "GET", "/_dash-layout")[1], request(front, "GET", "/_dash-dependencies")[1]
        )
    )
    log_offset = access_log.stat().st_size if access_log.exists() else 0
    server_offsets = [instance.log_size() for instance in instances]
    stop = threading.Event()
    samples: list[list[Sample]] = [[] for _ in range(users)]
    load_before = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    threads = [
        threading.Thread(target=_user, args=(front, pages, stop, THINK[think], seed + n, samples[n]), daemon=True)
        for n in range(users)
    ]
    start = time.monotonic()
    events = [(start, "stable")]
    for thread in threads:
        thread.start()
    victim = instances[-1]
    restart_s = None
    try:
        time.sleep(phase_seconds)
        events.append((time.monotonic(), "bascule"))
        restore_version(bundle, swap_to)
        time.sleep(phase_seconds)
        events.append((time.monotonic(), "panne"))
        victim.kill()
        time.sleep(phase_seconds)
        events.append((time.monotonic(), "redemarrage"))
        victim.start()
        restart_s = victim.wait_ready()
        events.append((time.monotonic(), "retablie"))
        time.sleep(phase_seconds)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    end = time.monotonic()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    with access_log.open(encoding="utf-8", errors="replace") as fh:
        fh.seek(log_offset)
        log_lines = fh.read().splitlines()
    flat = [s for rows in samples for s in rows]
    summary = summarize(flat, events, end)
    summary["swap"]["to"] = swap_to.name
    return {
        "users": users,
        "think": think,
        "think_seconds": THINK[think],
        "seconds": round(end - start, 1),
        "requests_per_s": round(len(flat) / (end - start), 1),
        "overall": _percentiles([(s.end - s.start) * 1000 for s in flat]),
        **summary,
        "restart_s": round(restart_s, 1) if restart_s is not None else None,
        "nginx": nginx_summary(log_lines, {i.port: i.name for i in instances}),
        "server_log_problems": [
            line for i, offset in zip(instances, server_offsets, strict=True) for line in i.log_problems(offset)
        ][:10],
        "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }


def bench_scaleout(
    record: Callable[..., dict],
    users: list[int],
    workers: int,
    phase_seconds: float,
    thinks: list[str],
    departement: str = "66",
) -> list[dict]:
    """Build two bundle versions, start two instances and nginx, then one run per (think time, users); recorded."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="ctg-scaleout-") as tmp:
        root = Path(tmp)
        bundle, first, second = build_versions(root / "data", departement)
        secret = secrets.token_hex(32)
        instances = [Instance(f"web{n}", free_port(), workers, bundle, root, secret) for n in (1, 2)]
        front = free_port()
        try:
            for instance in instances:
                instance.start()
            ready = [round(instance.wait_ready(), 1) for instance in instances]
            with nginx([i.port for i in instances], front, root / "nginx") as proxy:
                target = second
                for think in thinks:
                    for count in users:
                        time.sleep(5)  # let the previous run's stragglers and restarts settle
                        result = run_scaleout(
                            front, instances, bundle, target, count, think, phase_seconds, proxy.access_log
                        )
                        rows.append(
                            record(
                                "scaleout",
                                departement=departement,
                                instances=len(instances),
                                workers_per_instance=workers,
                                first_start_s=ready,
                                command=" ".join(local_command(PROCFILE, instances[0].port, workers)[2:]),
                                nginx_conf="docs/deploiement/nginx-ctg-carto.conf",
                                cpu_count=os.cpu_count(),
                                **result,
                            )
                        )
                        target = first if target == second else second
        finally:
            for instance in instances:
                instance.stop()
    return rows


def table(rows: list[dict]) -> str:
    """Markdown table of recorded runs, one line per phase (what the README shows)."""
    out = [
        "| attente | utilisateurs | phase | requêtes | erreurs | 204 | requêtes/s | p50 | p95 | p99 |",
        "|---" * 10 + "|",
    ]
    for row in rows:
        for phase, values in row["phases"].items():
            out.append(
                f"| {row['think']} | {row['users']} | {phase} | {values['requests']} | {values['errors']} | "
                f"{values['no_update_204']} | {values['requests_per_s']} | {values.get('p50_ms')} | "
                f"{values.get('p95_ms')} | {values.get('p99_ms')} |"
            )
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover - convenience: print the table of the last recorded runs
    from bench import RESULTS

    recorded = [json.loads(line) for line in RESULTS.read_text(encoding="utf-8").splitlines()]
    print(table([r for r in recorded if r.get("bench") == "scaleout"]))
