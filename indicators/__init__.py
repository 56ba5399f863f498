"""Pure indicator computations on a territory bundle. Never imports dash or plotly."""
