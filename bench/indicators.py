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


def bench_accessibility(record: Callable[..., dict], structures: int = 15_000, repeat: int = 3) -> None:
    """E2SFCA at national scale: every town hall of France (~35 000) as demand, ``structures`` crèches placed at the
    town halls of communes drawn by population (with ~500 m of jitter), default parameters."""
    import numpy as np

    from geodata.communes import load_commune_base
    from indicators.access import to_lambert93
    from indicators.accessibility import e2sfca
    from indicators.params import load_params

    communes = load_commune_base("all").communes
    x, y = to_lambert93(communes["mairie_lon"].to_numpy(float), communes["mairie_lat"].to_numpy(float))
    pop = communes["population"].fillna(0).to_numpy(float)
    rng = np.random.default_rng(0)
    picks = rng.choice(len(pop), size=structures, p=pop / pop.sum())
    supply_xy = np.column_stack([x[picks], y[picks]]) + rng.normal(0, 500, size=(structures, 2))
    places = rng.integers(10, 60, size=structures).astype(float)
    params = load_params()
    steps = [(b * 1000.0, w) for b, w in params.paliers_km]
    demand = pop * 0.03
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = e2sfca(np.column_stack([x, y]), demand, supply_xy, places, steps, params.facteur_detour)
        times.append(time.perf_counter() - start)
    assert result is not None
    shared = float(demand @ result.access)
    record(
        "accessibility",
        communes=len(pop),
        structures=structures,
        pairs_within_d0=result.pairs,
        dense_matrix_cells=len(pop) * structures,
        places_shared_out=round(shared),
        places_total=float(places.sum()),
        seconds_median=round(statistics.median(times), 3),
        seconds_all=[round(t, 3) for t in times],
    )
