"""On-demand benchmarks (never run by the test suite): ``python -m bench.run [build|indicators|app] …``."""
