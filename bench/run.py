"""Benchmarks run on demand and reported in notes — never timed inside unit tests.

    python -m bench.run build [--departement 66 all]
    python -m bench.run indicators [--departement 66 all]
    python -m bench.run accessibilite
    python -m bench.run app
    python -m bench.run load [--users 50 200] [--seconds 60] [--workers 3] [--max-requests 200000]
    python -m bench.run hardening [--workers 3] [--exports 10] [--attackers 8] [--seconds 40] [--root DIR]
    python -m bench.run scaleout [--users 50 200] [--workers 2] [--seconds 20] [--think meeting none]

Results are printed and appended as JSON lines to ``bench/results/results.jsonl`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import RESULTS


def _record(name: str, **values: object) -> dict:
    row = {"bench": name, "at": datetime.now(UTC).isoformat(timespec="seconds"), **values}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(json.dumps(row, ensure_ascii=False, indent=1))
    return row


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_build(departements: list[str]) -> None:
    """Build time, peak memory and bundle size per département (public sources of the configured data dir)."""
    from geodata.build import build_bundle
    from geodata.settings import Settings

    settings = Settings.from_env()
    for dep in departements:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "bundle"
            start = time.perf_counter()
            report = build_bundle(
                out,
                departement=dep,
                sources_dir=settings.sources_dir if dep != "all" else None,
                extra_sources=settings.sources_extra,
            )
            seconds = time.perf_counter() - start
            real = out.resolve()
            web = {p.name: p.stat().st_size for p in (real / "web").iterdir()}
            _record(
                "build",
                departement=dep,
                ok=report.ok,
                seconds=round(seconds, 2),
                layers=len(report.present),
                bundle_bytes=_dir_size(real),
                web_bytes=web,
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                cpu_count=os.cpu_count(),
            )


def main() -> None:
    """Parse the bench name and run it."""
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    benches = ["build", "indicators", "accessibilite", "app", "load", "hardening", "scaleout"]
    parser.add_argument("bench", choices=benches)
    parser.add_argument("--departement", nargs="+", default=["66", "all"])
    parser.add_argument("--users", nargs="+", type=int, default=[50, 200], help="load: simulated users per run")
    parser.add_argument("--seconds", type=float, default=60.0, help="load: duration of each run")
    parser.add_argument("--workers", nargs="+", type=int, default=[3], help="load: gunicorn workers (WEB_CONCURRENCY)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="load: hard cap of requests per run")
    parser.add_argument("--bundle", type=Path, default=None, help="load: bundle (default CTG_CARTO_BUNDLE)")
    parser.add_argument("--exports", type=int, default=10, help="hardening: simultaneous anonymous exports")
    parser.add_argument("--attackers", type=int, default=8, help="hardening: clients sending wrong passwords")
    parser.add_argument("--root", type=Path, default=None, help="hardening: other checkout to run (before/after)")
    parser.add_argument("--think", nargs="+", default=["meeting", "none"], help="scaleout: think time between actions")
    args = parser.parse_args()
    if args.bench == "build":
        bench_build(args.departement)
    elif args.bench == "indicators":
        from bench.indicators import bench_indicators

        bench_indicators(args.departement, _record)
    elif args.bench == "hardening":
        from bench.hardening import bench_hardening

        workers = args.workers[0]
        seconds = args.seconds if args.seconds != 60.0 else 40.0
        bench_hardening(_record, args.bundle, workers, args.exports, args.attackers, seconds, args.root)
    elif args.bench == "scaleout":  # two instances behind nginx; --seconds is the length of each phase
        from bench.scaleout import bench_scaleout

        workers = args.workers[0] if args.workers != [3] else 2  # per instance; 2 instances
        bench_scaleout(_record, args.users, workers, args.seconds if args.seconds != 60.0 else 20.0, args.think)
    elif args.bench == "accessibilite":
        from bench.indicators import bench_accessibility

        bench_accessibility(_record)
    elif args.bench == "load":
        from bench.load import bench_load

        bench_load(_record, args.users, args.seconds, args.workers, args.max_requests, args.bundle)
    else:
        from bench.app import bench_app

        bench_app(_record)


if __name__ == "__main__":
    main()
