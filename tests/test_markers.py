"""The conftest guard that keeps the markers honest: an unmarked test that reaches LibreOffice or OCR
fails before anything starts; a marked one goes through."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests import conftest


def test_an_unmarked_test_cannot_start_libreoffice():
    from pipeline import convert

    with pytest.raises(pytest.fail.Exception, match=r"pytestmark = pytest\.mark\.libreoffice"):
        convert.soffice_batch(Path("/nonexistent/soffice"), [], Path("."), Path("."), {})
    with pytest.raises(pytest.fail.Exception, match="starts LibreOffice"):
        convert.Converter._start_server(object())


def test_an_unmarked_test_cannot_run_ocr(tmp_path):
    from pipeline.incoming import ocr

    with pytest.raises(pytest.fail.Exception, match=r"pytest\.mark\.ocr"):
        ocr.ocr_pdf(tmp_path / "in.pdf", tmp_path / "out.pdf", None, pages=1)


@pytest.mark.libreoffice
@pytest.mark.ocr
def test_a_marked_test_passes_the_guard():
    conftest._needs("libreoffice")
    conftest._needs("ocr")
