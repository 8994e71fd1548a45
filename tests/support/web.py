"""Web test helpers: a fixed clock, the app for an instance, CSRF token and log-in, and what a 督办/收文
list page shows (rows and count cards)."""
from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient

from tests.support.web_instance import PASSWORD

class Clock:
    def __init__(self, t: dt.datetime):
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t


def app_for(inst, clock=None):
    from pipeline.web import create_app

    return create_app(inst.config, clock=clock)


def token(client: TestClient, url: str = "/login") -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text)
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token(client),
                                       "next": "/"}, follow_redirects=False)


def rows(html: str) -> dict[str, str]:
    """督办编号 → the row's class ('' or 'late') in the list."""
    return {ref: cls for cls, ref in re.findall(r'<tr(?: class="(\w+)")?>\s*<td class="nowrap"><a href="[^"]+">([^<]+)</a>',
                                                html)}


def cards(html: str) -> dict[str, str]:
    return {label: n for n, label in re.findall(r'<b(?: class="bad")?>([^<]+)</b><span>([^<]+)</span>', html)}
