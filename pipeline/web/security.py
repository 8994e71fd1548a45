"""What keeps the app safe whatever a request says: the session secret, CSRF tokens, secure headers,
a per-client login limiter, and the checks that a served file lies inside its record folder."""
from __future__ import annotations

import os
import secrets
import stat
import threading
import time
from collections import deque
from pathlib import Path

from ..config import Config
from ..errors import ConfigError
from ..fsutil import atomic_write_bytes

SECRET_FILE = "keys/web-session.key"      # under the archive folder, beside the office key
CSRF_FIELD = "csrf_token"
# No inline script or style anywhere: the pages load /static/gongwen.css and /static/gongwen.js only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def secret_path(config: Config) -> Path:
    return config.archive_dir / SECRET_FILE


def session_secret(config: Config) -> str:
    """The key that signs session cookies: read from a 0600 file in the instance, made on first use.
    A file others may read is refused (anyone who reads it can forge a login)."""
    path = secret_path(config)
    if not path.exists():
        atomic_write_bytes(path, secrets.token_urlsafe(48).encode("ascii"), mode=0o600)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"会话密钥文件 {path} 的权限为 {mode:o}，其他用户可读；请执行 chmod 600 {path}")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ConfigError(f"会话密钥文件 {path} 内容过短（至少 32 个字符）；删除它，下次启动会重新生成")
    return key


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(str(a), str(b))


class SecureHeaders:
    """ASGI middleware: the headers above on every response; ``no-store`` on everything but /static
    (pages and files show documents that must not stay in a shared PC's cache)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"
                           or static]
                headers += list(HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ClientLimiter:
    """At most ``limit`` failed logins per client address in ``window`` seconds (in memory): stops one
    machine from trying many account names; the per-account throttle is in the accounts table."""

    def __init__(self, limit: int = 30, window: float = 900.0, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._fails: dict[str, deque] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        with self._lock:
            q = self._fails.get(client)
            now = self.clock()
            while q and now - q[0] > self.window:
                q.popleft()
            n = len(q) if q else 0
            return n > 0 and n >= self.limit

    def failed(self, client: str) -> None:
        with self._lock:
            self._fails.setdefault(client, deque()).append(self.clock())

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._fails.pop(client, None)


def inside(folder: Path, name: str) -> Path | None:
    """``folder/name`` when ``name`` is a plain file name whose resolved path stays inside ``folder``
    (no separators, no ``..``, no absolute path, no symlink out); else None."""
    real = inside_tree(folder, name) if name and "/" not in name else None
    return real if real is not None and real.parent == folder.resolve() else None


def inside_tree(folder: Path, name: str) -> Path | None:
    """``folder/name`` when ``name`` is a relative path (plain parts, no ``..``, no absolute path, no
    backslash) to a regular file whose resolved path stays inside ``folder`` (no symlink out); else
    None. For files kept in sub-folders of their own folder (a 督办件's 佐证材料/ and 进展材料/)."""
    if not name or "\\" in name or "\x00" in name or os.path.isabs(name):
        return None
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    try:
        root = folder.resolve(strict=True)
        real = folder.joinpath(*parts).resolve(strict=True)
    except OSError:
        return None
    if not real.is_relative_to(root) or real == root or not real.is_file():
        return None
    return real
