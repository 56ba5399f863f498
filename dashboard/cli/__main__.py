"""``python -m dashboard.cli``: the same as the ``ctg-carto`` command."""

import sys

from dashboard.cli.main import main

sys.exit(main())
