"""The production setup holds: gunicorn started from the ``Procfile`` command, on 127.0.0.1, with 2 workers.

Checked here: it serves the real bundle (« Données fictives » banner of the demo extract), it is stateless (two
clients get their own answers; the same request answered by two workers is byte-identical), a missing or corrupt
bundle stops gunicorn with the French ``BundleError`` message (no half-working map), and debug is off (no traceback in
an error response). The server helpers are those of ``bench/load.py`` so the bench and this test run the same command.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dashboard.core import ids

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _load_bench() -> object:
    # bench/ is not an installed package: load the helper module from its file.
    spec = importlib.util.spec_from_file_location("ctg_bench_load", ROOT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


load = _load_bench()
ACCESS_LOG = "--no-control-socket --access-logfile - --access-logformat '%(p)s %(m)s %(U)s %(s)s'"
POST = "/_dash-update-component"


@pytest.fixture(scope="module")
def server(bundle_66_demo_dir):
    """Gunicorn from the Procfile, 2 workers, access log with the worker pid (to see which worker answered)."""
    with load.gunicorn(bundle_66_demo_dir, 2, extra_env={"GUNICORN_CMD_ARGS": ACCESS_LOG}, timeout=60) as srv:
        yield srv


@pytest.fixture(scope="module")
def workflow(server):
    return load.Workflow.discover(server.port)


def _post(server, body: bytes) -> tuple[int, bytes]:
    return load.request(server.port, "POST", POST, body)


def _epci_body(workflow, epci: str) -> bytes:
    return load.callback_body(workflow.callbacks["epci_map"], {ids.EPCI_DROPDOWN: epci}, ids.EPCI_DROPDOWN)


def test_procfile_command_is_parsed_and_bound_to_localhost():
    argv = load.procfile_command(ROOT / "Procfile", {"PORT": "8123"})
    assert argv[:2] == ["gunicorn", "dashboard.wsgi:server"]
    assert argv[argv.index("--workers") + 1] == "3"  # ${WEB_CONCURRENCY:-3} without the variable
    assert "--preload" in argv
    local = load.local_command(ROOT / "Procfile", 8123, 2)
    assert local[local.index("--bind") + 1] == "127.0.0.1:8123"
    assert local[local.index("--workers") + 1] == "2"
    assert not any("0.0.0.0" in arg for arg in local)


def test_gunicorn_serves_the_bundle_with_two_workers(server):
    status, page = load.request(server.port, "GET", "/")
    assert status == 200
    assert '"ui":false' in page.decode()  # Dash dev tools (debug) are off
    status, layout = load.request(server.port, "GET", "/_dash-layout")
    assert status == 200
    assert load.find_props(json.loads(layout), ids.SYNTHETIC_BANNER)["children"] == "Données fictives"
    deadline = time.monotonic() + 10  # the second worker may log its boot after the first one answered
    while len(set(re.findall(r"Booting worker with pid: (\d+)", server.stderr()))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(set(re.findall(r"Booting worker with pid: (\d+)", server.stderr()))) == 2
    assert f"127.0.0.1:{server.port}" in server.stderr()


def test_two_clients_get_their_own_epci_answer(server, workflow):
    first, second = workflow.epcis[0], workflow.epcis[-1]
    expected = {epci: _post(server, _epci_body(workflow, epci)) for epci in (first, second)}
    assert expected[first][0] == expected[second][0] == 200
    assert expected[first][1] != expected[second][1]
    with ThreadPoolExecutor(max_workers=8) as pool:
        asked = [first, second] * 8
        answers = list(pool.map(lambda e: _post(server, _epci_body(workflow, e)), asked))
    for epci, answer in zip(asked, answers, strict=True):
        assert answer == expected[epci], epci


def test_same_request_gives_identical_bytes_on_every_worker(server, workflow):
    body = load.callback_body(
        workflow.callbacks["epci_table"],
        {ids.INDICATOR_DROPDOWN: workflow.indicators[0], ids.EPCI_DROPDOWN: workflow.epcis[1]},
        ids.EPCI_DROPDOWN,
    )
    answers: set[tuple[int, bytes]] = set()
    pids: set[str] = set()
    for _ in range(5):  # concurrent requests land on both workers; retry in the unlikely case they did not
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers |= set(pool.map(lambda _: _post(server, body), range(16)))
        pids = set(re.findall(rf"^<(\d+)> POST {POST} 200$", server.stderr(), flags=re.MULTILINE))
        if len(pids) >= 2:
            break
    assert len(pids) == 2, "les deux workers auraient dû répondre"
    assert len(answers) == 1
    status, data = answers.pop()
    assert status == 200 and b'"tableau-communes"' in data


def test_debug_is_off_errors_carry_no_traceback(server):
    malformed = _post(server, b'{"output": "carte.figure", "inputs": [')
    unknown = _post(server, json.dumps({"output": "inconnu.children", "outputs": {}, "inputs": []}).encode())
    for status, body in (malformed, unknown):
        assert 400 <= status < 600
        text = body.decode("utf-8", "replace")
        assert "Traceback" not in text and 'File "' not in text and ".py" not in text


def _truncated_copy(bundle: Path, dest: Path) -> Path:
    shutil.copytree(bundle.resolve(), dest)
    parquet = dest / "communes.parquet"
    parquet.write_bytes(parquet.read_bytes()[:1000])
    return dest


def test_bad_bundle_stops_gunicorn_with_a_french_message(bundle_66_demo_dir, tmp_path):
    cases = {
        "absent": (tmp_path / "absent", "Aucun bundle de territoire dans"),
        "tronqué": (_truncated_copy(bundle_66_demo_dir, tmp_path / "tronque"), "Bundle corrompu"),
    }
    with (
        load.gunicorn(cases["absent"][0], 2, wait=False) as missing,
        load.gunicorn(cases["tronqué"][0], 2, wait=False) as corrupt,
    ):
        for server, (_, message) in ((missing, cases["absent"]), (corrupt, cases["tronqué"])):
            assert server.proc.wait(timeout=30) != 0
            log = server.stderr()
            assert message in log
            assert "communes.parquet" in log or server is missing
            assert "Booting worker" not in log and "Traceback" not in log
            with pytest.raises(ConnectionRefusedError):
                load.request(server.port, "GET", "/", timeout=2)
