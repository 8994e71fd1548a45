"""Fixtures several test modules share, registered from tests/conftest.py (``pytest_plugins``): a test
asks for them by name and never imports them. A module that defines a fixture of the same name uses its
own (conftest's and a module's own fixtures win over these)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.support.ledger import TZ, Clock


# --- instances -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    """A fresh instance made by ``gongwen init`` (demo keys and seal), shared by the module's tests."""
    from pipeline.config import load
    from pipeline.instance import init_instance

    root = tmp_path_factory.mktemp("inst") / "instance"
    init_instance(root, None)
    return load(root / "config.yaml")


@pytest.fixture
def new_inst(tmp_path):
    """A fresh instance made by ``gongwen init``, one per test."""
    from pipeline.config import load
    from pipeline.instance import init_instance

    root = tmp_path / "instance"
    init_instance(root, None)
    return load(root / "config.yaml")


@pytest.fixture(scope="module")
def svc(inst):
    """The services (register, store, index, converter) of ``inst``, opened once for the module."""
    from pipeline.process import open_services

    with open_services(inst, "测试员") as s:
        yield s


@pytest.fixture(scope="module")
def ledger_cfg(tmp_path_factory):
    """A fresh instance's Config (conftest's ``write_instance``), shared by the module's register tests."""
    from pipeline.config import load
    from samples.instance import write_instance

    return load(write_instance(tmp_path_factory.mktemp("ledger-instance")))


# --- the register on conftest's ``config`` -------------------------------------------------------------

@pytest.fixture
def clock():
    """A fake clock from 2015-02-06 09:00 (+08:00), one minute later at each reading."""
    return Clock(dt.datetime(2015, 2, 6, 9, tzinfo=TZ))


@pytest.fixture
def ledger(config, clock):
    """The register of conftest's fresh ``config`` instance, on the fake ``clock``."""
    from pipeline.ledger import Ledger

    config.archive_dir.mkdir(parents=True, exist_ok=True)
    with Ledger.open(config, clock=clock) as led:
        yield led


# --- the web app on the shared web instance ------------------------------------------------------------

@pytest.fixture
def cheap_hashes():
    """Password hashing at test cost (the web modules use it: ``pytest.mark.usefixtures``)."""
    from pipeline import accounts
    from tests.support.web_instance import cheap_hasher

    accounts.set_hasher(cheap_hasher())
    yield
    accounts.set_hasher(None)


@pytest.fixture(scope="module")
def app(web_instance):
    """The web app on conftest's session ``web_instance`` (its lifespan open for the module)."""
    from fastapi.testclient import TestClient

    from tests.support.web import app_for

    with TestClient(app_for(web_instance)) as c:
        yield c.app


@pytest.fixture(scope="module")
def clients(app):
    """One logged-in client per role (module scope: the shared instance only gains login events)."""
    from fastapi.testclient import TestClient

    from tests.support.web import login
    from tests.support.web_instance import USERS

    out = {}
    for name in USERS:
        c = TestClient(app)
        r = login(c, name)
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        out[name] = c
    yield out
    for c in out.values():
        c.close()
