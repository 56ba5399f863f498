"""Fuzzing every CSV importer: a damaged file either imports or raises DataError — never another exception.

Why: publishers' files and hand-filled CAF extracts arrive cut, re-saved, mixed up. An importer that crashes with a
``KeyError`` or ``IndexError`` shows the adviser a stack trace instead of « ligne 12, colonne Places : … ».
Each importer starts from a real valid file (the shared raw files, the CAF template examples, the format fixtures
under ``tests/data``) and hypothesis applies one to three random mutations: a cell replaced by random text, the
separators of a line deleted, the file truncated, random bytes inserted, two header names swapped, a line removed
or duplicated. ``CTG_CARTO_FUZZ_EXAMPLES`` raises the number of examples for a deeper local run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.catalogue import all_sources, get_source
from geodata.errors import DataError
from geodata.importers import ImportContext
from geodata.settings import EMBEDDED_SOURCES, PROJECT_ROOT

FORMATS = PROJECT_ROOT / "tests" / "data" / "formats"
TEMPLATES = PROJECT_ROOT / "docs" / "templates"
EXAMPLES = int(os.environ.get("CTG_CARTO_FUZZ_EXAMPLES", "50"))

VALID_FILES: dict[str, Path] = {
    "france_services": EMBEDDED_SOURCES / "anct_france_services" / "france_services_66_20240801.csv",
    "qpv2024_liste": EMBEDDED_SOURCES / "qpv2024_anct_superposeur" / "qpv2024_liste_66.csv",
    "zrr2017": EMBEDDED_SOURCES / "anct_zrr" / "zrr_2017_cog2017_66.csv",
    "frr2025": EMBEDDED_SOURCES / "frr_2025" / "frr_classement_20250710_66.csv",
    "filosofi2021": EMBEDDED_SOURCES / "insee_filosofi" / "filosofi2021_communes_66.csv",
    "anct_typologies": EMBEDDED_SOURCES / "anct_grilles_communes" / "densite_66.csv",
    "dila_annuaire_2016": EMBEDDED_SOURCES / "dila_annuaire_2016" / "annuaire_services_publics_sociaux_66_2016.csv",
    "chiffres_cles": EMBEDDED_SOURCES / "chiffres_cles_66" / "chiffres_cles_departement_66.csv",
    "bpe": FORMATS / "bpe2024" / "BPE24.csv",
    "pop_age": FORMATS / "insee_rp" / "base-cc-evol-struct-pop-2022.csv",
    "dgcl_pf": FORMATS / "dgcl" / "criteres_repartition_2024.csv",
    "caf_txcouv": FORMATS / "caf_data" / "txcouv_pe_com.csv",
    "caf_nbpla": FORMATS / "caf_data" / "nbpla_pe_com.csv",
    "caf_allocataires": FORMATS / "caf_data" / "s_ben_com_f.csv",
    "caf_eaje": TEMPLATES / "caf_eaje_exemple.csv",
    "caf_alsh": TEMPLATES / "caf_alsh_exemple.csv",
    "caf_centres_sociaux": TEMPLATES / "caf_centres_sociaux_exemple.csv",
    "caf_accueils": TEMPLATES / "caf_accueils_exemple.csv",
    "caf_ctg": TEMPLATES / "caf_ctg_exemple.csv",
    "caf_demande": TEMPLATES / "caf_demande_exemple.csv",
}
"""One valid CSV per importer that reads CSV (geojson/xlsx-only importers are not concerned)."""

RANDOM_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("abcXYZ0189 ,.;-/\"'é€\t<>\r\n\ufeff")), max_size=12),
    st.sampled_from(["", "NaN", "inf", "1e308", "-0", "-1", "s", "nd", "2,5", "66999", "99136", "31/02/2025"]),
    st.text(max_size=6),
)


def test_every_csv_importer_of_the_catalogue_is_fuzzed():
    """Catalogue sources whose patterns read CSV, public and CAF: none is left out of the fuzzing."""
    csv_sources = {s.id for s in all_sources() if any(p.lower().endswith(".csv") for p in s.file_patterns)}
    assert csv_sources == set(VALID_FILES)


def _separator(header: bytes) -> bytes:
    return max((b";", b",", b"\t"), key=header.count)


@st.composite
def mutations(draw: st.DrawFn, raw: bytes) -> bytes:
    """One to three random damages applied to the bytes of a valid file."""
    data = raw
    for _ in range(draw(st.integers(1, 3))):
        lines = data.split(b"\n")
        sep = _separator(lines[0])
        k = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(["cell", "separators", "truncate", "bytes", "swap", "drop", "duplicate"]))
        if op == "cell":
            cells = lines[k].split(sep)
            j = draw(st.integers(0, len(cells) - 1))
            cells[j] = draw(RANDOM_TEXT).encode("utf-8")
            lines[k] = sep.join(cells)
        elif op == "separators":
            lines[k] = lines[k].replace(sep, b"", draw(st.integers(1, 3)))
        elif op == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
            continue
        elif op == "bytes":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
            continue
        elif op == "swap":
            names = lines[0].split(sep)
            if len(names) >= 2:
                i, j = draw(st.lists(st.integers(0, len(names) - 1), min_size=2, max_size=2, unique=True))
                names[i], names[j] = names[j], names[i]
                lines[0] = sep.join(names)
        elif op == "drop":
            del lines[k]
        else:
            lines.insert(k, lines[k])
        data = b"\n".join(lines)
    return data


@pytest.fixture(scope="module")
def fuzz_dir():
    with tempfile.TemporaryDirectory(prefix="fuzz-") as directory:
        yield Path(directory)


@pytest.mark.parametrize("source_id", sorted(VALID_FILES))
def test_damaged_file_imports_or_raises_data_error(source_id, import_ctx_66: ImportContext, fuzz_dir):
    valid = VALID_FILES[source_id]
    importer = get_source(source_id).load_importer()
    result = importer(valid, import_ctx_66)  # the starting point really is valid
    assert len(result.table) > 0
    raw = valid.read_bytes()
    # Same name and same neighbours: some importers read the level or the date from the name, or sibling files
    # (the four ANCT grids); only the file under test is damaged.
    target = fuzz_dir / source_id / valid.name
    shutil.copytree(valid.parent, target.parent, dirs_exist_ok=True)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(damaged=mutations(raw))
    def check(damaged: bytes) -> None:
        target.write_bytes(damaged)
        try:
            imported = importer(target, import_ctx_66)
        except DataError as exc:
            problems = exc.problems
        else:
            assert isinstance(imported.table, pd.DataFrame)
            return
        assert problems
        assert all(p.file == valid.name for p in problems)  # always names the damaged file

    check()
