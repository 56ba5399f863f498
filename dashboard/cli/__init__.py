"""The ``ctg-carto`` command line (entry point :func:`dashboard.cli.main.main`)."""
