"""CAF extracts: the layers only the Caf holds, filled by its advisers in documented templates.

- :mod:`geodata.caf.templates`: what each template is (columns, kinds, bounds, examples) and its guide tables;
- :mod:`geodata.caf.validation`: every problem of a filled file at once (line, column, French message, suggestion);
- :mod:`geodata.caf.importer`: validated file → bundle layer, template recognition, ``data check``, catalogue entries;
- :mod:`geodata.caf.writers`: blank and example templates as CSV and XLSX (``docs/templates``).

The names below are the package's public API (what the CLI, the upload page, the demo and the tests use).
"""

from __future__ import annotations

from geodata.caf.importer import (
    CAF_SOURCES,
    check_caf_file,
    detect_template,
    extraction_date,
    import_caf_accueils,
    import_caf_alsh,
    import_caf_centres_sociaux,
    import_caf_ctg,
    import_caf_demande,
    import_caf_eaje,
    import_caf_file,
    is_synthetic_dir,
)
from geodata.caf.templates import (
    ACCUEILS,
    ALSH,
    CAF_LIMITS,
    CENTRES_SOCIAUX,
    CTG,
    DATE_FILE,
    DEMANDE,
    EAJE,
    SYNTHETIC_MARKER,
    TEMPLATES,
    Bounds,
    Column,
    Template,
    bounds_markdown,
    get_template,
    limits_markdown,
    numeric_bounds,
)
from geodata.caf.validation import parse_date
from geodata.caf.writers import write_csv, write_templates, write_xlsx

__all__ = [
    "ACCUEILS",
    "ALSH",
    "CAF_LIMITS",
    "CAF_SOURCES",
    "CENTRES_SOCIAUX",
    "CTG",
    "DATE_FILE",
    "DEMANDE",
    "EAJE",
    "SYNTHETIC_MARKER",
    "TEMPLATES",
    "Bounds",
    "Column",
    "Template",
    "bounds_markdown",
    "check_caf_file",
    "detect_template",
    "extraction_date",
    "get_template",
    "import_caf_accueils",
    "import_caf_alsh",
    "import_caf_centres_sociaux",
    "import_caf_ctg",
    "import_caf_demande",
    "import_caf_eaje",
    "import_caf_file",
    "is_synthetic_dir",
    "limits_markdown",
    "numeric_bounds",
    "parse_date",
    "write_csv",
    "write_templates",
    "write_xlsx",
]
