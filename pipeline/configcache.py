"""What a validated config.yaml said, remembered, so that a read-only command can skip validating it.

Validating the config (``config.load``) costs about a tenth of a second before a command does anything:
pydantic, YAML and two dozen models. ``gongwen search`` needs two facts from it — where the archive is
and which search engine — and is the command a clerk types most. So after every successful load the
facts are written to the user's cache, ``$XDG_CACHE_HOME/gongwen/config/<hash of the config's path>.json``
(``~/.cache`` when the variable is unset), with a key made of

- the config file's exact bytes (sha256),
- gongwen's version and the validation code itself (``config.py``'s size and modification time),

and ``recall()`` gives them back only while all of these are unchanged; otherwise it returns None and the
caller loads the config in full, which remembers it again. Nothing here is ever the only copy of anything:
a cache that cannot be written or read is ignored (it only saves time), and a command that writes — or
needs more than these facts — always loads and validates the config itself.

This module imports neither pydantic nor YAML; that is its point.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import CONFIG_ENV, DEFAULT_CONFIG, __version__

if TYPE_CHECKING:
    from .config import Config

FORMAT = 1    # bump when the cached facts change shape
VALIDATION_CODE = Path(__file__).with_name("config.py")    # a new validation forgets what the old one passed


def resolve_path(path: str | os.PathLike | None) -> Path:
    """The config file to use: an explicit path, else $GONGWEN_CONFIG, else ./config.yaml."""
    return Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


@dataclass(frozen=True)
class SearchFacts:
    engine: str


@dataclass(frozen=True)
class ConfigFacts:
    """The part of a validated config a read-only search needs (same attribute names as ``Config``)."""

    file: Path
    archive_dir: Path
    search: SearchFacts


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gongwen" / "config"


def _cache_file(config_file: Path) -> Path:
    return cache_dir() / (hashlib.sha256(os.fsencode(config_file)).hexdigest()[:32] + ".json")


def _key(data: bytes) -> str:
    code = VALIDATION_CODE.stat()
    return f"{FORMAT}:{__version__}:{code.st_size}:{code.st_mtime_ns}:{hashlib.sha256(data).hexdigest()}"


def remember(config_file: Path, data: bytes, cfg: "Config") -> None:
    """Note that ``data`` (the bytes of ``config_file``) validated to ``cfg``. Best effort."""
    from .fsutil import atomic_write_text

    file = config_file.resolve()
    text = json.dumps({"key": _key(data), "file": str(file), "archive_dir": str(cfg.archive_dir),
                       "engine": cfg.search.engine}, ensure_ascii=False)
    target = _cache_file(file)
    try:
        if target.read_text(encoding="utf-8") == text:
            return    # the usual case: every command loads the same config; nothing to rewrite
    except (OSError, ValueError):
        pass
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_text(target, text, 0o600, durable=False)
    except OSError:
        pass    # a read-only home or a full disk: the next command validates again


def recall(path: str | os.PathLike | None = None) -> ConfigFacts | None:
    """The remembered facts of the config at ``path`` if its bytes, gongwen and the validation code are
    what they were when it last validated; else None (then load it in full)."""
    try:
        file = resolve_path(path).resolve()
        data = file.read_bytes()
        facts = json.loads(_cache_file(file).read_text(encoding="utf-8"))
        if not isinstance(facts, dict) or facts.get("key") != _key(data) or facts.get("file") != str(file):
            return None
        return ConfigFacts(file=file, archive_dir=Path(facts["archive_dir"]),
                           search=SearchFacts(engine=str(facts["engine"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None
