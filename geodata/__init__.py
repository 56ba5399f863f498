"""Sources, import and geometry: everything before the validated territory bundle.

Never imports dash or plotly (checked by tests/test_architecture.py).
"""
