"""On-demand benchmarks (never run by the test suite): ``python -m bench.run [build|indicators|app] …``."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "results.jsonl"
"""Where every bench run appends its JSON line (read back by the table printers)."""
