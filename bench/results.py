"""Where the benches record their runs (one JSON object per line), shared by ``bench.run`` and the table printers."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "results.jsonl"
