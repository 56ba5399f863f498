"""On-demand benchmarks (never run by the test suite): ``python -m bench.run [build|indicators|app] …``."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "results.jsonl"
"""Every run appends its JSON lines here (git-ignored); ``bench.run`` writes, ``bench.scaleout`` reads."""
