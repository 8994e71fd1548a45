"""Shared fixtures: a fresh gongwen instance in a temporary folder, paths to the shared test data; and
the guard that keeps the markers honest (a test that starts LibreOffice, OCR or Chromium must say so:
`make test-fast` runs the tests that need none of them)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from samples.instance import REPO, write_instance

pytest_plugins = ["tests.support.fixtures"]   # the fixtures several test modules share
SHARED = (REPO.parent / "shared").resolve()
SHARED_DATA = SHARED / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; the test is skipped, with the reason, when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared test data not available: {p} (clone ../shared beside the repository)")
    return p


@pytest.fixture(scope="session")
def cfg():
    """The repository's default instance, validated without the template-file check: for readers
    and rules, which never render."""
    from pipeline.config import Config

    return Config.model_validate(yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8")))


@pytest.fixture
def bare_config(tmp_path: Path):
    """A config whose templates are empty placeholder files: for unit tests that never render."""
    from pipeline.config import TEMPLATE_NAMES, load

    tpl = tmp_path / "placeholder-templates"
    tpl.mkdir()
    for name in TEMPLATE_NAMES:
        (tpl / f"{name}.docx").write_bytes(b"")
    cfg = write_instance(tmp_path / "bare")
    text = cfg.read_text(encoding="utf-8").replace(str(REPO / "templates"), str(tpl))
    cfg.write_text(text, encoding="utf-8")
    return load(cfg)


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    """Path of a fresh instance's config.yaml in tmp_path."""
    return write_instance(tmp_path / "instance")


@pytest.fixture
def config(instance_path: Path):
    from pipeline.config import load

    return load(instance_path)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    monkeypatch.delenv("GONGWEN_CONFIG", raising=False)
    monkeypatch.setenv("GONGWEN_ACTOR", "测试员")
    # configcache (and LibreOffice's own cache) not in the real ~/.cache, and not inside tmp_path,
    # which some tests expect to hold only their own files.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))


@pytest.fixture(scope="session")
def web_instance(tmp_path_factory):
    """A real instance with issued, arranged documents and one account per role (tests/support/web_instance.py)."""
    from tests.support.web_instance import build

    return build(tmp_path_factory.mktemp("web"))


# --- one LibreOffice for the session ---------------------------------------------------------------
# Starting LibreOffice costs seconds, so the tests share one: ``lo_converter`` is a persistent
# Converter for the whole session, and every pipeline.process.Services and web app in the tests
# converts with it (``_one_converter``) unless given its own (``Services(..., _converter=...)``). It
# starts on first use, inside a test, so the marker guard below still fails an unmarked test that would
# start it. Left with their own LibreOffice, on purpose: a test that kills, times out, restarts one or
# checks its start-up (tests/test_convert.py builds its Converters itself); the subprocess services
# (gongwen watch) by nature; the batched `soffice --convert-to` runs of the layout tests
# (samples/render_drafts.py: many documents per process, as the bench does); and
# pipeline.yearend.catalogue.to_pdf, which opens a Converter for each batch it converts (a year's
# catalogues, the 催办单; no seam to pass one in, and replacing it here would be a twin of pipeline code);
# and the real conversion of `gongwen doctor` (convert.health, a one-off soffice run).
@pytest.fixture(scope="session")
def lo_converter(tmp_path_factory):
    """The session's LibreOffice (pipeline.convert.Converter), started on first use, stopped at the end."""
    from pipeline.config import load
    from pipeline.convert import Converter

    root = tmp_path_factory.mktemp("lo-session")
    conv = Converter(load(write_instance(root / "instance")), workdir=root / "converter")
    yield conv
    conv.stop()


@pytest.fixture(scope="session", autouse=True)
def _one_converter(lo_converter):
    """Services.converter and the web app's WebState.converter() are the session's LibreOffice (the
    instances all use the repository's fonts and converter settings); closing them leaves it running, as
    they only stop a converter they own."""
    from pipeline.process import Services
    from pipeline.web.app import WebState

    patch = pytest.MonkeyPatch()
    patch.setattr(Services, "converter",
                  property(lambda self: self._converter if self._converter is not None else lo_converter))
    patch.setattr(WebState, "converter",
                  lambda self: self._converter if self._converter is not None else lo_converter)
    yield
    patch.undo()


# --- what a test needs: markers, kept honest --------------------------------------------------------
# A module whose tests start LibreOffice, run OCR or drive Chromium carries
# `pytestmark = pytest.mark.<marker>`; `make test-fast` deselects them. The guard below fails any test
# that starts LibreOffice or OCR in this process without the marker, so the fast loop cannot silently
# grow slow, and a marker cannot be forgotten. (Chromium is only ever started by the browser tests'
# own fixture, which carries the marker.)
HEAVY = {"libreoffice": "starts LibreOffice", "ocr": "runs OCR (Tesseract)"}
_running: list = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _running.append(item)
    try:
        yield
    finally:
        _running.pop()


def _needs(marker: str) -> None:
    if _running and _running[-1].get_closest_marker(marker) is None:
        item = _running[-1]
        pytest.fail(f"{item.nodeid} {HEAVY[marker]} but is not marked: add `pytestmark = pytest.mark.{marker}` "
                    "to its module (make test-fast would run it)", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _heavy_parts_are_marked():
    from pipeline import convert
    from pipeline.incoming import ocr

    patch = pytest.MonkeyPatch()
    for owner, name, marker in ((convert, "soffice_batch", "libreoffice"),
                                (convert.Converter, "_start_server", "libreoffice"),
                                (ocr, "ocr_pdf", "ocr")):
        original = getattr(owner, name)

        def guarded(*args, _original=original, _marker=marker, **kwargs):
            _needs(_marker)
            return _original(*args, **kwargs)

        patch.setattr(owner, name, guarded)
    yield
    patch.undo()
