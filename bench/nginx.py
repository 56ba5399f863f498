"""Debian's nginx for the benches: the documented site configuration, run by the current user on loopback ports.

The bench measures the file administrators copy (``docs/deploiement/nginx-ctg-carto.conf``), not a look-alike: it
only swaps the two instance addresses, points the log and the geometry cache into a temporary directory and drops the
lines marked ``# TLS`` (certificates, HTTPS listen, HTTP→HTTPS redirect), replaced by one plain ``listen`` on
127.0.0.1. Every substitution must match exactly once, so a template edit that the bench no longer understands stops
the bench instead of silently measuring something else. nginx runs in the foreground (``daemon off``) with its own
prefix, pid, temp and log paths: no root, no system service, nothing outside the temporary directory.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SITE_TEMPLATE = Path(__file__).resolve().parents[1] / "docs" / "deploiement" / "nginx-ctg-carto.conf"
TEMPLATE_UPSTREAMS = ("127.0.0.1:8051", "127.0.0.1:8052")
"""Instance addresses written in the template, replaced by the bench's ports."""
TLS_MARK = "# TLS"


def render_site(template: str, upstreams: list[int], listen: int, root: Path) -> str:
    """The site configuration of ``template`` for a loopback bench: instances on ``upstreams`` ports, listening on
    ``127.0.0.1:listen``, log and cache under ``root``.

    Raises:
        ValueError: the template lost one of the lines the bench replaces (names the line).
    """
    if len(upstreams) != len(TEMPLATE_UPSTREAMS):
        raise ValueError(f"Le modèle décrit {len(TEMPLATE_UPSTREAMS)} instances, pas {len(upstreams)}.")
    kept = [line for line in template.splitlines() if not line.rstrip().endswith(TLS_MARK)]
    text = "\n".join(kept) + "\n"
    replacements = [
        *(
            (f"server {old} ", f"server 127.0.0.1:{port} ")
            for old, port in zip(TEMPLATE_UPSTREAMS, upstreams, strict=True)
        ),
        ("/var/log/nginx/ctg-carto.access.log", str(root / "access.log")),
        ("/var/cache/nginx/ctg-carto", str(root / "cache")),
        ("    server_name carte.caf66.example;\n", f"    listen 127.0.0.1:{listen};\n    server_name localhost;\n"),
    ]
    for old, new in replacements:
        found = text.count(old)
        if found != 1:
            raise ValueError(f"{SITE_TEMPLATE.name} : « {old.strip()} » trouvé {found} fois (1 attendu).")
        text = text.replace(old, new)
    return text


def main_conf(root: Path, site: Path) -> str:
    """nginx.conf for a foreground nginx whose every path is under ``root`` (only ``mime.types`` is the system's)."""
    tmp = root / "tmp"
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""  # as root, workers would otherwise be nobody
    temp_paths = "".join(
        f"    {kind}_temp_path {tmp / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\nmaster_process on;\nworker_processes 1;\nworker_rlimit_nofile 8192;\n"
        f"pid {root / 'nginx.pid'};\nerror_log {root / 'error.log'} warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"{temp_paths}    include {site};\n}}\n"
    )


def nginx_binary() -> str:
    """Path of Debian's nginx (``apt-get install nginx-light``); a French error when it is absent."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise RuntimeError("nginx absent : installez-le pour ce banc (apt-get install -y nginx-light).")
    return found


@dataclass
class Nginx:
    """A running nginx: its process, the port it listens on and its directory (access log, error log)."""

    proc: subprocess.Popen
    port: int
    root: Path

    @property
    def access_log(self) -> Path:
        """The site's access log (format ``ctg_carto`` of the template)."""
        return self.root / "access.log"


@contextmanager
def nginx(upstreams: list[int], listen: int, root: Path, template: Path = SITE_TEMPLATE) -> Iterator[Nginx]:
    """Render the site for ``upstreams``, check it (``nginx -t``), run nginx until the block exits, then stop it."""
    binary = nginx_binary()
    root.mkdir(parents=True, exist_ok=True)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "tmp" / kind).mkdir(parents=True, exist_ok=True)
    site = root / "ctg-carto.conf"
    site.write_text(render_site(template.read_text(encoding="utf-8"), upstreams, listen, root), encoding="utf-8")
    conf = root / "nginx.conf"
    conf.write_text(main_conf(root, site), encoding="utf-8")
    argv = [binary, "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")]
    check = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t refuse la configuration :\n{check.stderr}")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_listening(proc, listen, root)
        yield Nginx(proc, listen, root)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_listening(proc: subprocess.Popen, port: int, root: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (root / "error.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"nginx s'est arrêté (code {proc.returncode}) :\n{log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"nginx ne répond pas sur 127.0.0.1:{port} après {timeout:.0f} s.")


_LOG_LINE = re.compile(
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) .* up="(?P<up>[^"]*)" us="(?P<us>[^"]*)" .*cache=(?P<cache>\S+)'
)


def nginx_summary(lines: list[str], ports: dict[int, str]) -> dict[str, Any]:
    """From the access log of a run (format ``ctg_carto``): requests per instance, answers from nginx's geometry
    cache, and the requests nginx replayed on the other instance (``$upstream_addr`` lists both)."""
    by_instance: Counter[str] = Counter()
    cache_hits = 0
    replayed: Counter[str] = Counter()
    examples: list[str] = []
    names = {f"127.0.0.1:{port}": name for port, name in ports.items()}
    for line in lines:
        match = _LOG_LINE.search(line)
        if not match:
            continue
        cache_hits += match["cache"] == "HIT"
        ups = [u.strip() for u in match["up"].split(",") if u.strip() and u.strip() != "-"]
        if ups:
            by_instance[names.get(ups[-1], ups[-1])] += 1
        if len(ups) > 1:
            method = match["request"].split(" ")[0]
            replayed[f"{method} {match['us']} → {match['status']}"] += 1
            if len(examples) < 5:
                examples.append(f"{match['request']} us={match['us']} → {match['status']}")
    return {
        "requests": sum(by_instance.values()) + cache_hits,
        "cache_hits": cache_hits,
        "by_instance": dict(by_instance),
        "replayed": sum(replayed.values()),
        "replayed_by_outcome": dict(replayed),
        "replayed_examples": examples,
    }
