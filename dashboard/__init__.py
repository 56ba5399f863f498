"""The Dash application and the ``ctg-carto`` command line."""
