"""Local user accounts of an instance, their roles, and what each role may do.

Accounts live in the instance's ledger database, as a book (``USERS``): the ``users`` table (name,
roles, active) is chained like every register — creating a user, changing roles, disabling and a new
password are events carrying the row's new content, so ``gongwen doctor`` names an account edited by
hand. Password hashes and the login-failure counter are in ``user_credentials``, the book's own table,
which is **not** replayed into the chain: a hash never appears in an event snapshot.

Passwords are hashed with Argon2id (argon2-cffi; its defaults, RFC 9106's low-memory profile). A
wrong password increments the account's failure counter; ``Web.max_failed_logins`` failures in a row
lock the account for ``Web.lockout_minutes`` (a right password does not open a locked account until
then). The check against a missing account costs the same as against a real one.

Who may do what is ONE table, ``PERMISSIONS``: the web app and the CLI ask ``may(roles, action)``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import Config
from .errors import GongwenError
from .ledger import Book, Ledger

ROLES = ("查阅", "办文", "领导", "督查", "档案", "管理")
ROLE_NOTES = {
    "查阅": "检索、阅读已发文件",
    "办文": "秘书组：清样、草稿、登记簿",
    "领导": "签发清样，查阅登记簿",
    "督查": "督查室：督办事项的进展、销号、延期、答复",
    "档案": "年终整理、四性检测、移交",
    "管理": "管理用户账号",
}

# action → the roles that may do it. The ONE place that says who may do what (docs/web.md prints it).
# download_original for 查阅 is added by config (web.readers_download_originals): see may().
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "search": ROLES,                                    # 检索 and the figures on the home page
    "read": ROLES,                                      # 文件 page: metadata, page images, history
    "download_pdf": ROLES,                              # 正本.pdf
    "download_final": ("办文", "领导", "档案"),          # 定稿.docx
    "download_original": ("办文", "领导", "档案"),       # 原稿 (the draft as dropped)
    "verify": ROLES,                                    # fixity and signature check on demand
    "registers": ("办文", "领导", "档案", "管理"),       # 发文登记簿, 用印登记, .xlsx
    "yearend_view": ("领导", "档案", "管理"),            # 年终: arrangement status, last 四性检测
    "yearend_run": ("档案",),                            # archive / check / handover jobs
    "proofs": ("办文", "领导"),                          # 清样 list (when the 清样 library is present)
    "signoff": ("领导",),                                # 签发 or send back a 清样
    "supervise": ROLES,                                 # 督办: the 台账, an item, its history and files
    "supervise_edit": ("督查",),                         # 督办: 进展, 销号, 暂缓/不能办理/恢复, 延期, 答复
    "incoming": ROLES,                                  # 收文: the 收文登记簿 list, a 收文, its 处理笺 and files
    "incoming_handle": ("办文",),                        # 收文: 收文登记 (upload), 拟办, 办结
    "incoming_instruct": ("领导",),                      # 收文: 领导批示 (批办), with 交办督办
    "users": ("管理",),                                  # accounts
}
ACTION_NAMES = {
    "search": "检索", "read": "阅读文件", "download_pdf": "下载正本", "download_final": "下载定稿",
    "download_original": "下载原稿", "verify": "核验固定性与签名", "registers": "登记簿",
    "yearend_view": "查看年终归档", "yearend_run": "年终整理、检测、移交", "proofs": "清样",
    "signoff": "签发", "supervise": "查看督办事项", "supervise_edit": "督办：记进展、销号、延期",
    "incoming": "查看收文", "incoming_handle": "收文：登记、拟办、办结", "incoming_instruct": "收文：领导批示",
    "users": "用户管理",
}

USERS = Book(table="users", label="用户账号", schema="""
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, roles TEXT NOT NULL,
  active INTEGER NOT NULL CHECK (active IN (0, 1)), created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_credentials (
  user_id INTEGER PRIMARY KEY REFERENCES users(id), hash TEXT NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0, locked_until TEXT, last_login TEXT)""")

NAME_RE = re.compile(r"^[\w\u3400-\u9fff·.\-]{1,32}$")
MIN_PASSWORD = 8
_DEFAULT_HASHER = PasswordHasher()
_hasher: PasswordHasher = _DEFAULT_HASHER


def set_hasher(hasher: PasswordHasher | None) -> None:
    """Use other Argon2 parameters (tests use cheap ones; None restores the defaults). Existing hashes
    keep verifying: each carries its own parameters."""
    global _hasher, _DUMMY
    _hasher = hasher or _DEFAULT_HASHER
    _DUMMY = None


_DUMMY: str | None = None


def _dummy_hash() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher.hash("gongwen-no-such-user")
    return _DUMMY


class AccountError(GongwenError):
    """An account operation was refused (unknown user, bad role, weak password …)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    roles: tuple[str, ...]
    active: bool
    created_at: str
    updated_at: str
    last_login: str | None = None
    locked_until: str | None = None
    failures: int = 0

    @property
    def role_text(self) -> str:
        return "、".join(self.roles)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    reason: str = ""       # Chinese, for the login page when user is None
    locked: bool = False


def may(roles: tuple[str, ...] | list[str], action: str, config: Config | None = None) -> bool:
    """Whether someone with ``roles`` may do ``action`` (a key of PERMISSIONS)."""
    allowed = set(PERMISSIONS[action])
    if action == "download_original" and config is not None and config.web.readers_download_originals:
        allowed.add("查阅")
    return any(r in allowed for r in roles)


def permission_table(config: Config | None = None) -> list[tuple[str, list[bool]]]:
    """(action name, [allowed per role in ROLES]) for the docs and the 用户 page."""
    return [(ACTION_NAMES[a], [may((r,), a, config) for r in ROLES]) for a in PERMISSIONS]


def check_roles(roles) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(r.strip() for r in roles if r and r.strip()))
    bad = [r for r in out if r not in ROLES]
    if bad or not out:
        raise AccountError(f"角色“{'、'.join(bad) or '（未指定）'}”无效；可用的角色：{'、'.join(ROLES)}")
    return out


def check_password(password: str, name: str = "") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")
    if name and password == name:
        raise AccountError("密码不能与用户名相同")


class Accounts:
    """The accounts of one instance, on an open Ledger (which owns the transaction and the clock)."""

    def __init__(self, ledger: Ledger, *, now: Callable[[], dt.datetime] | None = None):
        self.ledger = ledger
        self.config = ledger.config
        self._now = now or ledger._clock
        ledger.open_book(USERS)

    # -- reading ---------------------------------------------------------------------------------
    @staticmethod
    def _user(r) -> User:
        return User(id=r["id"], name=r["name"], roles=tuple(x for x in r["roles"].split("、") if x),
                    active=bool(r["active"]), created_at=r["created_at"], updated_at=r["updated_at"],
                    last_login=r["last_login"], locked_until=r["locked_until"], failures=r["failures"] or 0)

    _SELECT = ("SELECT u.*, c.last_login, c.locked_until, c.failures FROM users u "
               "LEFT JOIN user_credentials c ON c.user_id = u.id")

    def list(self) -> list[User]:
        with self.ledger.book_read() as db:
            return [self._user(r) for r in db.execute(self._SELECT + " ORDER BY u.id")]

    def get(self, name: str) -> User | None:
        with self.ledger.book_read() as db:
            r = db.execute(self._SELECT + " WHERE u.name = ?", (name,)).fetchone()
        return self._user(r) if r else None

    def by_id(self, user_id: int) -> User | None:
        with self.ledger.book_read() as db:
            r = db.execute(self._SELECT + " WHERE u.id = ?", (user_id,)).fetchone()
        return self._user(r) if r else None

    def _require(self, w, name: str):
        r = w.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        if r is None:
            raise AccountError(f"没有用户“{name}”（gongwen user list 可列出全部用户）")
        return r

    def _written(self, name: str) -> User:
        """The user a change above has just written (users are never deleted)."""
        user = self.get(name)
        if user is None:
            raise AccountError(f"没有用户“{name}”（gongwen user list 可列出全部用户）")
        return user

    # -- changes (each one an event in the chain, by ``actor``) ---------------------------------------
    def add(self, name: str, roles, password: str, *, actor: str) -> User:
        name = (name or "").strip()
        if not NAME_RE.match(name):
            raise AccountError(f"用户名“{name}”无效：1–32 个汉字、字母、数字或 ._-，不含空格")
        roles = check_roles(roles)
        check_password(password, name)
        digest = _hasher.hash(password)
        with self.ledger.book_write() as w:
            if w.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountError(f"用户“{name}”已存在")
            now = w.now
            uid = w.execute("INSERT INTO users (name, roles, active, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
                            (name, "、".join(roles), now, now)).lastrowid
            w.execute("INSERT INTO user_credentials (user_id, hash) VALUES (?, ?)", (uid, digest))
            assert uid is not None  # an INSERT sets lastrowid
            w.record("user_added", actor=actor, book=USERS, row_id=uid)
        return self._written(name)

    def set_roles(self, name: str, roles, *, actor: str) -> User:
        roles = check_roles(roles)
        with self.ledger.book_write() as w:
            r = self._require(w, name)
            w.execute("UPDATE users SET roles = ?, updated_at = ? WHERE id = ?", ("、".join(roles), w.now, r["id"]))
            w.record("user_roles", actor=actor, book=USERS, row_id=r["id"], detail={"from": r["roles"]})
        return self._written(name)

    def set_active(self, name: str, active: bool, *, actor: str) -> User:
        with self.ledger.book_write() as w:
            r = self._require(w, name)
            w.execute("UPDATE users SET active = ?, updated_at = ? WHERE id = ?", (int(active), w.now, r["id"]))
            if active:   # re-enabling also lifts a throttle
                w.execute("UPDATE user_credentials SET failures = 0, locked_until = NULL WHERE user_id = ?",
                          (r["id"],))
            w.record("user_enabled" if active else "user_disabled", actor=actor, book=USERS, row_id=r["id"])
        return self._written(name)

    def set_password(self, name: str, password: str, *, actor: str) -> User:
        check_password(password, name)
        digest = _hasher.hash(password)
        with self.ledger.book_write() as w:
            r = self._require(w, name)
            w.execute("INSERT INTO user_credentials (user_id, hash) VALUES (?, ?) ON CONFLICT (user_id) DO "
                      "UPDATE SET hash = excluded.hash, failures = 0, locked_until = NULL", (r["id"], digest))
            w.execute("UPDATE users SET updated_at = ? WHERE id = ?", (w.now, r["id"]))
            w.record("user_password", actor=actor, book=USERS, row_id=r["id"])
        return self._written(name)

    # -- logging in ---------------------------------------------------------------------------------
    def authenticate(self, name: str, password: str, *, client: str = "") -> LoginResult:
        """Check a login. Wrong passwords count towards the throttle; the outcome of an attempt on an
        existing account is an event (login / login_failed / login_locked) under that account's name."""
        web = self.config.web
        now = self._now()
        with self.ledger.book_read() as db:
            r = db.execute("SELECT u.*, c.hash, c.failures, c.locked_until, c.last_login FROM users u "
                           "JOIN user_credentials c ON c.user_id = u.id WHERE u.name = ?",
                           ((name or "").strip(),)).fetchone()
        if r is None:
            _verify(_dummy_hash(), password or "")      # same cost as a real account
            return LoginResult(None, "用户名或密码不正确")
        if r["locked_until"] and dt.datetime.fromisoformat(r["locked_until"]) > now:
            self.ledger.log("login_locked", actor=r["name"], detail={"client": client, "until": r["locked_until"]})
            return LoginResult(None, f"连续输错密码次数过多，账号已暂时锁定，请于 {r['locked_until'][11:16]} 后再试"
                                     "（或请管理员解除）", locked=True)
        ok = _verify(r["hash"], password or "")
        if ok and r["active"]:
            with self.ledger.book_write() as w:
                w.execute("UPDATE user_credentials SET failures = 0, locked_until = NULL, last_login = ? "
                          "WHERE user_id = ?", (w.now, r["id"]))
            self.ledger.log("login", actor=r["name"], detail={"client": client})
            return LoginResult(self.by_id(r["id"]))
        if ok:      # right password, disabled account
            self.ledger.log("login_failed", actor=r["name"], detail={"client": client, "why": "账号已停用"})
            return LoginResult(None, "账号已停用，请联系管理员")
        failures = (r["failures"] or 0) + 1
        until = None
        if failures >= web.max_failed_logins:
            until = (now + dt.timedelta(minutes=web.lockout_minutes)).isoformat(timespec="seconds")
        with self.ledger.book_write() as w:
            w.execute("UPDATE user_credentials SET failures = ?, locked_until = ? WHERE user_id = ?",
                      (0 if until else failures, until, r["id"]))
        self.ledger.log("login_locked" if until else "login_failed", actor=r["name"],
                        detail={"client": client, "failures": failures, **({"until": until} if until else {})})
        if until:
            return LoginResult(None, f"连续输错密码 {failures} 次，账号已暂时锁定 {web.lockout_minutes:g} 分钟", locked=True)
        return LoginResult(None, "用户名或密码不正确")


def _verify(digest: str, password: str) -> bool:
    try:
        return _hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
