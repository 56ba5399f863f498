"""One ``Settings`` object, read from the environment, shared by the CLI, the builders and the app."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""Checkout root: default locations live under ``var/`` here (git-ignored)."""

EMBEDDED_SOURCES = PROJECT_ROOT / "data" / "sources"
"""The dept 66 public files committed with the project (original formats, ``PROVENANCE.md`` beside them): the default
data directory, so a fresh clone builds the full dept 66 map with no download and no other directory."""

DOWNLOAD_DIR = PROJECT_ROOT / "var" / "sources"
"""Where ``ctg-carto data fetch`` writes (git-ignored); searched after the data directory, for the files it lacks."""


def _paths(value: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())


def _env_bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "oui", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Every field has an environment variable ``CTG_CARTO_<NAME>``.

    Why one object: the CLI, the bundle builder, the WSGI entry point and the tests all need the same paths; passing
    one frozen value around avoids reading ``os.environ`` from deep inside the code.
    """

    departement: str = "66"
    bundle: Path = PROJECT_ROOT / "var" / "bundle"
    sources_dir: Path = EMBEDDED_SOURCES
    """Data directory of the public files (``CTG_CARTO_SOURCES_DIR``, ``--sources``): the embedded dept 66 files by
    default; point it at a larger directory (e.g. a national download) to use that one first."""
    sources_extra: tuple[Path, ...] = (DOWNLOAD_DIR,)
    """Directories searched after ``sources_dir``, only for the files it lacks or that do not cover the territory
    (``CTG_CARTO_SOURCES_EXTRA``, several joined by « : »; ``--sources-extra``). Default: the ``data fetch``
    download directory. Nothing outside the project is ever searched unless named here or in ``sources_dir``."""
    arrondissements: str = "auto"
    """Paris, Lyon, Marseille by arrondissement municipal: ``auto`` (in builds of 75, 69, 13), ``oui``, ``non``."""
    caf_dir: Path = PROJECT_ROOT / "var" / "caf"
    cache_dir: Path = PROJECT_ROOT / "var" / "cache"
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    secret_key: str = ""
    tile_url: str = ""
    """Optional raster tile URL template (``https://…/{z}/{x}/{y}.png``); empty means the offline plain background."""
    tile_attribution: str = ""
    auth_password_hash: str = ""
    auth_header: str = ""
    auth_scope: str = "donnees"
    """What the editor authentication protects: ``donnees`` (the « Données » page; the map stays public) or
    ``tout`` (the whole application, map included)."""
    proxies: int = 0
    """Number of reverse proxies in front of the app whose ``X-Forwarded-*`` headers are trusted (0: none). Never
    trust them without a proxy: a client could forge its address or scheme."""

    @property
    def source_dirs(self) -> tuple[Path, ...]:
        """Data directories in search order: ``sources_dir`` then ``sources_extra`` (duplicates removed)."""
        return tuple(dict.fromkeys((self.sources_dir, *self.sources_extra)))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read every ``CTG_CARTO_*`` variable; unset ones keep the defaults above."""
        env = os.environ if environ is None else environ
        base = cls()
        get = env.get
        return replace(
            base,
            departement=get("CTG_CARTO_DEPARTEMENT", base.departement),
            bundle=Path(get("CTG_CARTO_BUNDLE", str(base.bundle))),
            sources_dir=Path(get("CTG_CARTO_SOURCES_DIR", str(base.sources_dir))),
            sources_extra=_paths(get("CTG_CARTO_SOURCES_EXTRA", os.pathsep.join(map(str, base.sources_extra)))),
            arrondissements=get("CTG_CARTO_ARRONDISSEMENTS", base.arrondissements),
            caf_dir=Path(get("CTG_CARTO_CAF_DIR", str(base.caf_dir))),
            cache_dir=Path(get("CTG_CARTO_CACHE_DIR", str(base.cache_dir))),
            host=get("CTG_CARTO_HOST", base.host),
            port=int(get("PORT", get("CTG_CARTO_PORT", str(base.port)))),
            debug=_env_bool(get("CTG_CARTO_DEBUG"), base.debug),
            secret_key=get("CTG_CARTO_SECRET_KEY", base.secret_key),
            tile_url=get("CTG_CARTO_TILE_URL", base.tile_url),
            tile_attribution=get("CTG_CARTO_TILE_ATTRIBUTION", base.tile_attribution),
            auth_password_hash=get("CTG_CARTO_AUTH_PASSWORD_HASH", base.auth_password_hash),
            auth_header=get("CTG_CARTO_AUTH_HEADER", base.auth_header),
            auth_scope=get("CTG_CARTO_AUTH_SCOPE", base.auth_scope),
            proxies=int(get("CTG_CARTO_PROXIES", str(base.proxies)) or 0),
        )
