"""HTML → PDF / PNG with headless Chromium.

Why Chromium rather than WeasyPrint or a PDF library: it is already installed for the browser tests (Debian
``chromium``, no new Python dependency), it is a real layout engine (CSS grid, inline SVG patterns, ``@page`` margin
boxes with page counters), and it uses the same fonts as the screen, so the fiche looks like what users see. The
HTML is written to a private temporary directory and opened through ``file://``; no network is used (the HTML is
self-contained) and a throw-away profile (``--user-data-dir``) keeps runs independent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_S = 90
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
A4_PX = (794, 1123)
"""A4 at 96 dpi (CSS pixels), the window of a PNG render."""


class RenderError(RuntimeError):
    """Chromium is missing or failed: the message says what to do, in French."""


def find_chromium() -> str:
    """Path of the Chromium binary (``CTG_CARTO_CHROMIUM`` wins over the PATH).

    Raises:
        RenderError: none found.
    """
    env = os.environ.get("CTG_CARTO_CHROMIUM")
    if env:
        return env
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise RenderError(
        "Chromium introuvable : installez le paquet Debian « chromium » ou indiquez le binaire avec CTG_CARTO_CHROMIUM."
    )


def _run(html: str, out: Path, mode_args: list[str]) -> Path:
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ctg-fiche-") as tmp:
        page = Path(tmp) / "fiche.html"
        page.write_text(html, encoding="utf-8")
        cmd = [
            find_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            *mode_args,
            page.as_uri(),
        ]
        tmp_out = out.with_name(f"{out.stem}.part{out.suffix}")  # Chromium picks the format from the suffix
        cmd = [a.replace("{OUT}", str(tmp_out)) for a in cmd]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"Chromium n'a pas terminé en {TIMEOUT_S} s ({out.name}).") from None
        if proc.returncode != 0 or not tmp_out.is_file() or tmp_out.stat().st_size == 0:
            tmp_out.unlink(missing_ok=True)
            tail = (proc.stderr or "").strip().splitlines()[-3:]
            raise RenderError(f"Échec du rendu Chromium pour {out.name} (code {proc.returncode}) : {' / '.join(tail)}")
        tmp_out.replace(out)  # never leave a half-written PDF under the final name
    return out


def render_pdf(html: str, out: Path) -> Path:
    """Print ``html`` to the PDF ``out`` (page size and margins from the CSS ``@page`` rule)."""
    return _run(html, out, ["--print-to-pdf={OUT}", "--no-pdf-header-footer"])


def render_png(html: str, out: Path, width: int = A4_PX[0], height: int = A4_PX[1]) -> Path:
    """Screenshot of the top of ``html`` (default: one A4 page at 96 dpi) to the PNG ``out``."""
    return _run(html, out, [f"--window-size={width},{height}", "--screenshot={OUT}"])
