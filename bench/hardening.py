"""Can an anonymous client slow the map? Map latency while exports run and while passwords are hammered.

    python -m bench.run hardening [--workers 3] [--exports 10] [--attackers 8] [--seconds 40] [--root DIR]

Both scenarios run against gunicorn started exactly as the ``Procfile`` says (``bench/load.py``), bound to 127.0.0.1:

- **exports**: ``--exports`` anonymous clients ask ``/export/vue.png`` at the same moment (the burst: how many got a
  file, how many a French « réessayez », how long each waited), then keep asking again one second after each answer
  for ``--seconds`` (so an export is always running); meanwhile two clients replay the map callbacks of a meeting
  (EPCI change, indicator change, commune card) one after the other. Their latency is reported before the burst
  (baseline) and while the exports run (p50/p95/max).
- **login**: with an editor password configured, ``--attackers`` clients send wrong passwords to ``/donnees`` as fast
  as they can for ``--seconds`` while the two map clients run; reported: map latency, answers by status (401 = the
  password was checked, 429 = refused unchecked), password checks per second.

``--root`` runs another checkout (its ``Procfile`` and code, e.g. a clone of ``main``) to compare before/after. The
bundle is ``--bundle`` or ``CTG_CARTO_BUNDLE``.
"""

from __future__ import annotations

import base64
import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import Workflow, gunicorn, request, server_cpu_seconds

MAP_KINDS = ("epci_map", "indicator_map", "commune_card", "indicator_legend")


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {
        "n": len(ordered),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "max_ms": round(ordered[-1], 1),
    }


class MapClients:
    """Two closed-loop clients replaying map callbacks; latencies are tagged with the phase they fell in."""

    def __init__(self, port: int, workflow: Workflow, clients: int = 2):
        self.port, self.workflow = port, workflow
        self.phase = "avant"
        self.samples: dict[str, list[float]] = {}
        self.errors: Counter[str] = Counter()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(clients)]

    def _loop(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            for kind, method, path, body in self.workflow.steps(rng):
                if kind not in MAP_KINDS or self.stop.is_set():
                    continue
                phase = self.phase
                start = time.perf_counter()
                try:
                    status, _ = request(self.port, method, path, body, timeout=120)
                except OSError as exc:
                    status = type(exc).__name__
                elapsed = (time.perf_counter() - start) * 1000
                if status == 200:
                    self.samples.setdefault(phase, []).append(elapsed)
                else:
                    self.errors[f"{phase}: {status}"] += 1

    def __enter__(self) -> MapClients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=130)

    def report(self) -> dict[str, Any]:
        """Latency statistics per phase of the run, for the bench's JSON report."""
        return {
            "map_latency": {phase: _stats(values) for phase, values in self.samples.items()},
            "map_errors": dict(self.errors),
        }


def _export_client(
    port: int, until: float, out: list[tuple[float, int, float]], burst: list[tuple[int, float]]
) -> None:
    """One anonymous user asking for a PNG of the map, again one second after each answer."""
    first = True
    while first or time.monotonic() < until:
        start = time.perf_counter()
        try:
            status, _ = request(port, "GET", "/export/vue.png?indicateur=eaje_nb&epci=200027183", timeout=180)
        except OSError:
            status = 0
        elapsed = time.perf_counter() - start
        out.append((time.monotonic(), status, elapsed))
        if first:
            burst.append((status, round(elapsed, 1)))
            first = False
        time.sleep(1.0)


def bench_exports(port: int, workflow: Workflow, exports: int, seconds: float, baseline_s: float) -> dict[str, Any]:
    """Burst of ``exports`` simultaneous export requests, then sustained retries, with the map clients measuring."""
    answers: list[tuple[float, int, float]] = []
    burst: list[tuple[int, float]] = []
    with MapClients(port, workflow) as clients:
        time.sleep(baseline_s)
        clients.phase = "pendant les exports"
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_export_client, args=(port, until, answers, burst), daemon=True)
            for _ in range(exports)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 200)
        clients.phase = "après"
        time.sleep(min(baseline_s, 5))
    statuses = Counter(status for _, status, _ in answers)
    done = [elapsed for _, status, elapsed in answers if status == 200]
    return {
        "exports_simultaneous": exports,
        "burst_answers": sorted(burst),
        "all_answers": {str(k): v for k, v in sorted(statuses.items())},
        "export_seconds_when_done": _stats([s * 1000 for s in done]),
        **clients.report(),
    }


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _attacker(port: int, until: float, statuses: Counter[int], seed: int) -> None:
    import http.client

    n = 0
    while time.monotonic() < until:
        n += 1
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/donnees", headers={"Authorization": _basic("editeur", f"faux-{seed}-{n}")})
            response = conn.getresponse()
            response.read()
            statuses[response.status] += 1
        except OSError:
            statuses[0] += 1
        finally:
            conn.close()


def bench_login(
    port: int, workflow: Workflow, attackers: int, seconds: float, baseline_s: float, pid: int
) -> dict[str, Any]:
    """``attackers`` clients sending wrong passwords as fast as they can while the map clients measure."""
    statuses: Counter[int] = Counter()
    with MapClients(port, workflow) as clients:
        time.sleep(baseline_s)
        clients.phase = "pendant l'attaque"
        cpu0 = server_cpu_seconds(pid)
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_attacker, args=(port, until, statuses, n), daemon=True) for n in range(attackers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        cpu1 = server_cpu_seconds(pid)
        clients.phase = "après"
        time.sleep(min(baseline_s, 5))
    return {
        "attackers": attackers,
        "attack_seconds": seconds,
        "answers": {str(k): v for k, v in sorted(statuses.items())},
        "password_checks_per_s": round(statuses[401] / seconds, 1),
        "server_cpu_s_during_attack": round(cpu1 - cpu0, 1) if cpu0 is not None and cpu1 is not None else None,
        **clients.report(),
    }


def bench_hardening(
    record: Callable[..., dict],
    bundle: Path | None,
    workers: int,
    exports: int,
    attackers: int,
    seconds: float,
    root: Path | None = None,
) -> None:
    """Run both scenarios on one gunicorn each (from ``root``'s Procfile when given) and record them."""
    from werkzeug.security import generate_password_hash

    from geodata.settings import Settings

    bundle = bundle or Settings.from_env().bundle
    procfile = (root or Path(__file__).resolve().parents[1]) / "Procfile"
    common = {"bundle": str(bundle), "workers": workers, "checkout": str(procfile.parent), "cpu_count": os.cpu_count()}
    with gunicorn(bundle, workers, procfile=procfile) as server:
        workflow = Workflow.discover(server.port)
        record("hardening-exports", **common, **bench_exports(server.port, workflow, exports, seconds, 15.0))
    env = {"CTG_CARTO_AUTH_PASSWORD_HASH": generate_password_hash("le-bon-mot-de-passe")}
    with gunicorn(bundle, workers, procfile=procfile, extra_env=env) as server:
        workflow = Workflow.discover(server.port)
        result = bench_login(server.port, workflow, attackers, seconds, 15.0, server.proc.pid)
        record("hardening-login", **common, **result)
