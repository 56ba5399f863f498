"""Load test of the production setup: gunicorn started exactly as the ``Procfile`` says, simulated meeting users.

    python -m bench.run load [--users 50 200] [--seconds 60] [--workers 3] [--max-requests 200000]

Each simulated user loops over the workflow of a CTG meeting: open the page (``/``, ``/_dash-layout``,
``/_dash-dependencies``, the geometry ``/geo/<hash>/communes.json``), change the EPCI (map view patch + table), open
the card of a random commune, change the indicator (map classes + legend + table). Closed loop, no think time: each
user sends its next request as soon as the previous answer arrived, so N users is N requests in flight.

Bounded on purpose: only ``127.0.0.1`` (the Procfile's ``0.0.0.0`` is rewritten), at most ``--seconds`` per run and
``--max-requests`` in total. The client is a pool of blocking ``http.client`` threads (no extra dependency); it runs
on the same machine as the server, so its CPU use is reported too.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.core import ids

HOST = "127.0.0.1"
PROCFILE = Path(__file__).resolve().parents[1] / "Procfile"
_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def procfile_command(procfile: Path, env: Mapping[str, str], process: str = "web") -> list[str]:
    """The ``process:`` line of a Procfile as argv, ``$VAR`` / ``${VAR:-default}`` expanded from ``env``.

    Why parse it rather than copy it: the bench and the deployment test must run what production runs, so a change
    in the Procfile (workers, timeout, ``--preload``) is measured and tested the day it is made.
    """
    for line in procfile.read_text(encoding="utf-8").splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == process:
            break
    else:
        raise ValueError(f"Pas de ligne « {process}: » dans {procfile}.")

    def expand(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        value = env.get(name, "")
        return value if value != "" else (match.group(2) or "")

    return shlex.split(_VAR.sub(expand, command))


def local_command(procfile: Path, port: int, workers: int) -> list[str]:
    """Procfile command bound to 127.0.0.1 (never all interfaces in a bench or a test), run by this interpreter."""
    argv = procfile_command(procfile, {"PORT": str(port), "WEB_CONCURRENCY": str(workers)})
    argv = [arg.replace("0.0.0.0:", f"{HOST}:") for arg in argv]
    if argv and argv[0] == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", *argv[1:]]
    return argv


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn: its process, port and the file collecting its stderr."""

    proc: subprocess.Popen
    port: int
    log: Path

    def stderr(self) -> str:
        """What gunicorn (master and workers) wrote so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def gunicorn(
    bundle: Path,
    workers: int,
    *,
    procfile: Path = PROCFILE,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
    wait: bool = True,
) -> Iterator[Server]:
    """Start gunicorn as the Procfile does on a free 127.0.0.1 port, wait until ``/`` answers, stop it on exit.

    ``wait=False`` returns at once (to watch a server that must refuse to start). The control socket is disabled via
    ``GUNICORN_CMD_ARGS`` so parallel runs do not fight over ``~/.gunicorn/gunicorn.ctl``.
    """
    port = free_port()
    env = {
        **os.environ,
        "CTG_CARTO_BUNDLE": str(bundle),
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_CMD_ARGS": "--no-control-socket",
        **(extra_env or {}),
    }
    env.pop("CTG_CARTO_DEBUG", None)
    with tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False) as fh:
        log = Path(fh.name)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            local_command(procfile, port, workers),
            cwd=procfile.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(proc, port, log)
    try:
        if wait:
            _wait_ready(server, timeout)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # gunicorn: quick shutdown (TERM waits for the workers' graceful exit)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.unlink(missing_ok=True)


def _wait_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"gunicorn s'est arrêté (code {server.proc.returncode}) :\n{server.stderr()[-3000:]}")
        try:
            status, _ = request(server.port, "GET", "/", timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"gunicorn ne répond pas après {timeout:.0f} s :\n{server.stderr()[-3000:]}")


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    timeout: float = 30.0,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """One HTTP request to 127.0.0.1 on a fresh connection (gunicorn's sync workers close it after each answer)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        sent = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the Dash protocol -------------------------------------------------------------------------------------------


def find_props(layout: Any, component_id: str) -> dict[str, Any]:
    """Props of the component with this id in a ``/_dash-layout`` tree (empty dict when absent)."""
    stack = [layout]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == component_id:
                return props
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return {}


def option_values(layout: Any, component_id: str) -> list[str]:
    """Values a user can pick in a dropdown of the layout (disabled group headers left out)."""
    options = find_props(layout, component_id).get("options") or []
    return [
        o["value"] if isinstance(o, dict) else o for o in options if not (isinstance(o, dict) and o.get("disabled"))
    ]


def geo_url(layout_text: str, name: str = "communes") -> str:
    """The immutable geometry URL (``/geo/<hash>/communes.json``) referenced by the map figure of the layout."""
    found = re.search(r'"(/geo/[0-9a-f]+/' + re.escape(name) + r'\.json)"', layout_text.replace("\\u002f", "/"))
    if not found:
        raise ValueError(f"URL de géométrie {name}.json absente du layout.")
    return found.group(1)


def find_callback(deps: list[dict], inputs: set[str], output: str) -> dict:
    """The dependency whose input ids are exactly ``inputs`` and whose output string contains ``output``."""
    for dep in deps:
        if {i["id"] for i in dep["inputs"]} == inputs and output in dep["output"]:
            return dep
    raise LookupError(f"Aucun callback {sorted(inputs)} → {output} dans /_dash-dependencies.")


def callback_body(dep: dict, values: Mapping[str, Any], changed: str) -> bytes:
    """JSON body of ``/_dash-update-component`` as the Dash renderer sends it (``values`` by component id)."""
    spec = dep["output"]
    if spec.startswith(".."):
        parts = spec[2:-2].split("...")
        outputs: Any = [dict(zip(("id", "property"), p.split(".", 1), strict=True)) for p in parts]
    else:
        outputs = dict(zip(("id", "property"), spec.split(".", 1), strict=True))
    body = {
        "output": spec,
        "outputs": outputs,
        "inputs": [{**i, "value": values.get(i["id"])} for i in dep["inputs"]],
        "changedPropIds": [f"{changed}.value"],
        "state": [{**s, "value": values.get(s["id"])} for s in dep["state"]],
    }
    return json.dumps(body).encode()


@dataclass(frozen=True)
class Workflow:
    """What a user needs to replay the meeting: callbacks found in ``/_dash-dependencies``, choices in the layout."""

    geo: str
    epcis: list[str]
    communes: list[str]
    indicators: list[str]
    callbacks: dict[str, dict] = field(repr=False)

    @classmethod
    def discover(cls, port: int) -> Workflow:
        """Read layout and dependencies once from the running server."""
        _, layout_bytes = request(port, "GET", "/_dash-layout")
        _, deps_bytes = request(port, "GET", "/_dash-dependencies")
        return cls.from_responses(layout_bytes, deps_bytes)

    @classmethod
    def from_responses(cls, layout_bytes: bytes, deps_bytes: bytes) -> Workflow:
        """The workflow of one ``/_dash-layout`` and ``/_dash-dependencies`` answer (a user who reloads the page
        after a bundle swap gets the new layout's choices and geometry URL)."""
        layout, deps = json.loads(layout_bytes), json.loads(deps_bytes)
        controls = {ids.INDICATOR_DROPDOWN, ids.METHOD_RADIO, ids.CLASS_COUNT, ids.BREAKS_INPUT}
        found = {
            "epci_map": find_callback(
                deps, {ids.EPCI_DROPDOWN, ids.COMMUNE_DROPDOWN, ids.VIEWPORT}, f"{ids.MAP}.figure"
            ),
            "epci_table": find_callback(deps, {ids.INDICATOR_DROPDOWN, ids.EPCI_DROPDOWN}, f"{ids.TABLE}.data"),
            "commune_card": find_callback(deps, {ids.COMMUNE_DROPDOWN, ids.INDICATOR_DROPDOWN}, ids.COMMUNE_CARD),
            "indicator_map": find_callback(deps, controls, f"{ids.MAP}.figure"),
            "indicator_legend": find_callback(deps, controls | {ids.EPCI_DROPDOWN}, f"{ids.LEGEND}.children"),
        }
        kinds = {
            str(find_props(layout, ids.INDICATOR_DROPDOWN).get("value")),
            *option_values(layout, ids.INDICATOR_DROPDOWN),
        }
        return cls(
            geo=geo_url(layout_bytes.decode()),
            epcis=[e for e in option_values(layout, ids.EPCI_DROPDOWN) if e],
            communes=[c for c in option_values(layout, ids.COMMUNE_DROPDOWN) if c],
            indicators=sorted(k for k in kinds if k and k != "None"),
            callbacks=found,
        )

    def steps(self, rng: random.Random) -> list[tuple[str, str, str, bytes | None]]:
        """One meeting loop: ``(kind, method, path, body)`` in the order a browser sends them."""
        epci, commune, indicator = rng.choice(self.epcis), rng.choice(self.communes), rng.choice(self.indicators)
        values = {
            ids.EPCI_DROPDOWN: epci,
            ids.COMMUNE_DROPDOWN: commune,
            ids.INDICATOR_DROPDOWN: indicator,
            ids.METHOD_RADIO: "quantiles",
            ids.CLASS_COUNT: 5,
            ids.BREAKS_INPUT: "",
        }
        cb = self.callbacks
        post = "/_dash-update-component"
        return [
            ("index", "GET", "/", None),
            ("layout", "GET", "/_dash-layout", None),
            ("dependencies", "GET", "/_dash-dependencies", None),
            ("geo", "GET", self.geo, None),
            ("epci_map", "POST", post, callback_body(cb["epci_map"], values, ids.EPCI_DROPDOWN)),
            ("epci_table", "POST", post, callback_body(cb["epci_table"], values, ids.EPCI_DROPDOWN)),
            ("commune_card", "POST", post, callback_body(cb["commune_card"], values, ids.COMMUNE_DROPDOWN)),
            ("indicator_map", "POST", post, callback_body(cb["indicator_map"], values, ids.INDICATOR_DROPDOWN)),
            ("indicator_legend", "POST", post, callback_body(cb["indicator_legend"], values, ids.INDICATOR_DROPDOWN)),
            ("indicator_table", "POST", post, callback_body(cb["epci_table"], values, ids.INDICATOR_DROPDOWN)),
        ]


# --- the load ----------------------------------------------------------------------------------------------------


@dataclass
class _Budget:
    """Shared stop condition: a deadline and a hard cap on the number of requests."""

    deadline: float
    remaining: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        if time.monotonic() >= self.deadline:
            return False
        with self.lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True


def _user(port: int, workflow: Workflow, budget: _Budget, seed: int, out: list, errors: list) -> None:
    rng = random.Random(seed)
    while True:
        for kind, method, path, body in workflow.steps(rng):
            if not budget.take():
                return
            start = time.perf_counter()
            try:
                status, data = request(port, method, path, body)
                ok = 200 <= status < 300
                if not ok:
                    errors.append(f"{kind}: HTTP {status} {data[:120]!r}")
            except OSError as exc:
                ok = False
                errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            out.append((kind, (time.perf_counter() - start) * 1000, ok))


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a gunicorn master and its workers, from ``/proc`` (None off Linux).

    Why: on a shared machine the throughput depends on the neighbours; CPU per request does not, and gives the
    capacity of a dedicated host (cores / CPU per request).
    """
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0
        for proc in [str(pid), *children]:
            fields = Path(f"/proc/{proc}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50_ms": round(values[0], 1) if values else 0.0}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(cuts[49], 1), "p95_ms": round(cuts[94], 1), "p99_ms": round(cuts[98], 1)}


def run_load(
    port: int, users: int, seconds: float, max_requests: int, seed: int = 66, server_pid: int | None = None
) -> dict[str, Any]:
    """``users`` closed-loop users against 127.0.0.1:``port`` for ``seconds``: counts, errors, latency per kind."""
    workflow = Workflow.discover(port)
    server0 = server_cpu_seconds(server_pid) if server_pid else None
    budget = _Budget(time.monotonic() + seconds, max_requests)
    samples: list[list] = [[] for _ in range(users)]
    errors: list[str] = []
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    threads = [
        threading.Thread(target=_user, args=(port, workflow, budget, seed + n, samples[n], errors), daemon=True)
        for n in range(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 180)
    elapsed = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    server1 = server_cpu_seconds(server_pid) if server_pid else None
    by_kind: dict[str, list[float]] = defaultdict(list)
    failed = 0
    for rows in samples:
        for kind, ms, ok in rows:
            by_kind[kind].append(ms)
            failed += not ok
    everything = [ms for values in by_kind.values() for ms in values]
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": len(everything),
        "errors": failed,
        "error_examples": sorted(set(errors))[:5],
        "requests_per_s": round(len(everything) / elapsed, 1),
        "overall": _percentiles(everything),
        "per_kind": {kind: {"n": len(v), **_percentiles(v)} for kind, v in sorted(by_kind.items())},
        "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        "server_cpu_s": round(server1 - server0, 1) if server0 is not None and server1 is not None else None,
        "server_cpu_ms_per_request": (
            round((server1 - server0) * 1000 / len(everything), 2)
            if server0 is not None and server1 is not None and everything
            else None
        ),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "capped": budget.remaining <= 0,
    }


def bench_load(
    record: Callable[..., dict],
    users: list[int],
    seconds: float,
    workers: list[int],
    max_requests: int,
    bundle: Path | None = None,
) -> list[dict]:
    """For each worker count, one gunicorn (from the Procfile) and one run per user count; each run is recorded."""
    from geodata.settings import Settings

    bundle = bundle or Settings.from_env().bundle
    rows = []
    for count in workers:
        with gunicorn(bundle, count) as server:
            for n in users:
                result = run_load(server.port, n, seconds, max_requests, server_pid=server.proc.pid)
                rows.append(
                    record(
                        "load",
                        bundle=str(bundle),
                        workers=count,
                        command=" ".join(local_command(PROCFILE, server.port, count)[2:]),
                        cpu_count=os.cpu_count(),
                        **result,
                    )
                )
    return rows
