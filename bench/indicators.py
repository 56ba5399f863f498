"""Time the full indicator computation (every level) on freshly built bundles."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def bench_indicators(departements: list[str], record: Callable[..., dict], repeat: int = 3) -> None:
    """Build each bundle once (66 with the public files and the demo extract), then time ``compute_indicators``."""
    from geodata.build import build_bundle
    from geodata.bundle import load_bundle
    from geodata.communes import load_commune_base
    from geodata.demo import write_demo_extract
    from geodata.settings import Settings
    from indicators.compute import compute_indicators

    settings = Settings.from_env()
    for dep in departements:
        with tempfile.TemporaryDirectory() as tmp:
            caf = None
            if dep != "all":
                caf = Path(tmp) / "caf"
                write_demo_extract(caf, load_commune_base(dep).communes)
            out = Path(tmp) / "bundle"
            build_bundle(
                out,
                departement=dep,
                sources_dir=settings.sources_dir if dep != "all" else None,
                caf_dir=caf,
                extra_sources=settings.sources_extra,
            )
            bundle = load_bundle(out)
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                ind = compute_indicators(bundle)
                times.append(time.perf_counter() - start)
            record(
                "indicators",
                departement=dep,
                communes=len(bundle.communes),
                layers=len(bundle.layers),
                available=len(ind.available),
                seconds_median=round(statistics.median(times), 3),
                seconds_all=[round(t, 3) for t in times],
            )
