"""What a browser downloads on a first and a repeat visit of the map (issue 14, points 1 and 3).

Two set-ups, same bundle, same headless Chromium (fresh profile, then the same profile again):

- ``direct``: gunicorn exactly as the ``Procfile`` says (``bench.load.gunicorn``), as the app is served today;
- ``nginx``: two such instances behind nginx with ``docs/deploiement/nginx-ctg-carto.conf`` (``bench.nginx``),
  i.e. gzip for JSON/JS/CSS and the geometry cache, no change to the app.

Every request comes from the DevTools performance log (``Network.loadingFinished.encodedDataLength``: bytes on the
wire, headers included), with its status, type, ``Content-Encoding`` and whether it came from the cache.

    .venv/bin/python -m bench.visit --bundle /tmp/x/bundle --out /tmp/first-visit

Also run by ``python -m bench.run app`` (direct set-up only). Findings before issue 14: ``docs/spikes/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_PAINTED = """
const g = document.querySelector('.js-plotly-plot');
const map = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot && g._fullLayout.map._subplot.map;
return !!(map && map.loaded() && performance.getEntriesByType('resource').some(e => e.name.includes('/geo/')));
"""


def _driver(profile: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--use-gl=angle",
        "--use-angle=swiftshader-webgl",
        "--enable-unsafe-swiftshader",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1400,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=options)


def _requests(driver: Any) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        rid = params.get("requestId")
        if message["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url.startswith("http"):
                seen[rid] = {"path": urlsplit(url).path, "method": params["request"]["method"], "bytes": 0}
        elif rid in seen and message["method"] == "Network.responseReceived":
            response = params["response"]
            headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
            seen[rid].update(
                status=response["status"],
                type=response.get("mimeType"),
                encoding=headers.get("content-encoding", ""),
                cache_control=headers.get("cache-control", ""),
                from_cache=bool(response.get("fromDiskCache") or response.get("fromMemoryCache")),
            )
        elif rid in seen and message["method"] == "Network.loadingFinished":
            seen[rid]["bytes"] = int(params.get("encodedDataLength", 0))
    return list(seen.values())


def visit(url: str) -> dict[str, Any]:
    """First visit with a fresh profile, then a repeat visit (new browser, same profile)."""
    profile = tempfile.mkdtemp(prefix="ctg-visit-")
    out = {}
    for name in ("first", "repeat"):
        driver = _driver(profile)
        try:
            start = time.monotonic()
            driver.get(url)
            while not driver.execute_script(_PAINTED):
                if time.monotonic() - start > 90:
                    raise TimeoutError(url)
                time.sleep(0.1)
            painted = time.monotonic() - start
            time.sleep(2)  # the callbacks fired by the first render
            rows = _requests(driver)
        finally:
            driver.quit()
        out[name] = {
            "painted_s": round(painted, 2),
            "requests": len(rows),
            "bytes": sum(r["bytes"] for r in rows),
            "rows": sorted(rows, key=lambda r: -r["bytes"]),
        }
    return out


def main() -> None:
    """Run both set-ups and write ``results.json``."""
    from bench.load import gunicorn
    from bench.nginx import nginx

    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/first-visit"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        first = stack.enter_context(gunicorn(args.bundle, 2))
        second = stack.enter_context(gunicorn(args.bundle, 1))
        results["direct"] = visit(f"http://127.0.0.1:{first.port}/")
        from bench.load import free_port

        proxy = stack.enter_context(nginx([first.port, second.port], free_port(), Path(tempfile.mkdtemp()) / "nginx"))
        results["nginx"] = visit(f"http://127.0.0.1:{proxy.port}/")
    (args.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    for setup, visits in results.items():
        for name, data in visits.items():
            sys.stdout.write(
                f"{setup} {name}: {data['requests']} requêtes, {data['bytes']} octets, {data['painted_s']} s\n"
            )
            for row in data["rows"][:12]:
                sys.stdout.write(
                    f"   {row['bytes']:>9} {row.get('status')} {row.get('encoding') or '-':5} "
                    f"{'cache' if row.get('from_cache') else '':5} {row['path'][:90]}\n"
                )


if __name__ == "__main__":
    main()
