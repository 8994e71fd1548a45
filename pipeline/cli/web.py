"""The browser app and its accounts: `gongwen serve`, `gongwen user add|list|role|disable|enable|passwd`."""
from __future__ import annotations

import ipaddress
import sys
import threading

import click
from rich.console import Console
from rich.table import Table

from ..accounts import ROLES
from . import App, cli, pass_app

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8400


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, behind_tls_proxy: bool) -> str | None:
    """The warning `serve` prints when the app listens beyond this machine without HTTPS."""
    if _loopback(host) or behind_tls_proxy:
        return None
    return (f"警告：服务监听 {host}，局域网内其他计算机可以访问，而连接没有加密（HTTP）：密码和文件会以明文传输。"
            "请在前面配置提供 HTTPS 的反向代理（见 docs/admin-guide.md），并在 config.yaml 中设置 "
            "web.behind_tls_proxy: true；或只监听 127.0.0.1。")


def make_server(app: App, host: str, port: int):
    """A uvicorn server for the instance's app (not yet running)."""
    import uvicorn

    from ..web import create_app

    web = create_app(app.config)
    return uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="warning", access_log=False,
                                         proxy_headers=app.config.web.behind_tls_proxy,
                                         forwarded_allow_ips="127.0.0.1"))


def _announce(app: App, host: str, port: int) -> None:
    warning = exposure_warning(host, app.config.web.behind_tls_proxy)
    if warning:
        click.echo(warning, err=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"网页版已启动：http://{shown}:{port}/（按 Ctrl+C 停止）")


@cli.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@pass_app
def serve_cmd(app: App, host: str, port: int) -> None:
    """The office in a browser: search, documents, registers, year-end, accounts (see docs/web.md).
    Listens on 127.0.0.1 unless --host says otherwise (and then warns when there is no HTTPS)."""
    server = make_server(app, host, port)
    _announce(app, host, port)
    server.run()


def run_with_server(app: App, host: str, port: int, run_service) -> int:
    """`gongwen run --serve`: the app in a thread beside the watch service; the service's Ctrl+C or
    SIGTERM stops both."""
    server = make_server(app, host, port)
    _announce(app, host, port)
    thread = threading.Thread(target=server.run, name="gongwen-web", daemon=True)
    thread.start()
    try:
        return run_service(app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- accounts ----------------------------------------------------------------------------------------

@cli.group("user")
def user_group() -> None:
    """Accounts of the browser app (stored in the instance's register database; changes are events)."""


def _accounts(app: App):
    from ..accounts import Accounts
    from ..ledger import Ledger

    ledger = Ledger.open(app.config)
    return ledger, Accounts(ledger)


def _password(password_stdin: bool, name: str) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(f"{name} 的密码", hide_input=True, confirmation_prompt="再输入一次")


ROLE_HELP = ", ".join(ROLES[:-1]) + f" or {ROLES[-1]} (repeat for several)"


@user_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input (scripts)")
@pass_app
def user_add(app: App, name: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create the account NAME with its roles and a password (asked twice, never shown)."""
    from ..accounts import check_roles

    check_roles(roles)              # before asking for a password
    password = _password(password_stdin, name)
    ledger, accounts = _accounts(app)
    with ledger:
        user = accounts.add(name, roles, password, actor=app.actor)
    click.echo(f"已新建用户 {user.name}（{user.role_text}）")


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def user_list(app: App, as_json: bool) -> None:
    """The accounts with their roles, state and last login."""
    import json

    from ..ledger import ledger_path

    users = []
    if ledger_path(app.config).is_file():
        ledger, accounts = _accounts(app)
        with ledger:
            users = accounts.list()
    if as_json:
        click.echo(json.dumps([{"name": u.name, "roles": list(u.roles), "active": u.active,
                                "last_login": u.last_login, "locked_until": u.locked_until} for u in users],
                              ensure_ascii=False, indent=2))
        return
    if not users:
        click.echo("还没有用户；用 gongwen user add NAME --role 管理 建立第一个。")
        return
    table = Table(title="用户")
    for col in ("用户名", "角色", "状态", "最近登录", "锁定至"):
        table.add_column(col)
    for u in users:
        table.add_row(u.name, u.role_text, "在用" if u.active else "已停用", (u.last_login or "")[:16],
                      (u.locked_until or "")[:16])
    Console().print(table)


@user_group.command("role")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help=ROLE_HELP)
@pass_app
def user_role(app: App, name: str, roles: tuple[str, ...]) -> None:
    """Replace NAME's roles."""
    ledger, accounts = _accounts(app)
    with ledger:
        user = accounts.set_roles(name, roles, actor=app.actor)
    click.echo(f"{user.name} 的角色已改为 {user.role_text}")


@user_group.command("disable")
@click.argument("name")
@pass_app
def user_disable(app: App, name: str) -> None:
    """Disable NAME (the account stays, with its history; its sessions end at once)."""
    _set_active(app, name, False)


@user_group.command("enable")
@click.argument("name")
@pass_app
def user_enable(app: App, name: str) -> None:
    """Enable NAME again (also lifts a login throttle)."""
    _set_active(app, name, True)


def _set_active(app: App, name: str, active: bool) -> None:
    ledger, accounts = _accounts(app)
    with ledger:
        accounts.set_active(name, active, actor=app.actor)
    click.echo(f"{'已启用' if active else '已停用'} {name}")


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input (scripts)")
@pass_app
def user_passwd(app: App, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (ends its sessions, lifts a throttle)."""
    password = _password(password_stdin, name)
    ledger, accounts = _accounts(app)
    with ledger:
        accounts.set_password(name, password, actor=app.actor)
    click.echo(f"已为 {name} 设置新密码")
