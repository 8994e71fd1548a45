"""The committed templates are what scripts/build_templates.py makes, lint clean, and name the
office fonts; fonts/fonts.conf maps those names to installed faces."""
from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx.oxml.ns import qn
from lxml import etree

from pipeline import layout as L
from pipeline import render
from pipeline.config import TEMPLATE_NAMES, load
from samples import render_drafts as D
from tests.conftest import REPO, write_instance
from tests.support.docx import parts

TEMPLATES = REPO / "templates"


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    from scripts import build_templates

    out = tmp_path_factory.mktemp("templates")
    assert build_templates.main([str(out)]) == 0
    return out


def test_build_script_regenerates_the_committed_templates(rebuilt):
    for name in TEMPLATE_NAMES:
        committed, fresh = parts(TEMPLATES / f"{name}.docx"), parts(rebuilt / f"{name}.docx")
        assert sorted(committed) == sorted(fresh), name
        for part in committed:
            assert committed[part] == fresh[part], f"{name}: {part} differs; run `make templates`"


def test_templates_lint_clean_against_the_render_context(tmp_path):
    config = load(write_instance(tmp_path / "i"))
    ctx, _ = render.build_context(D.notice(), D.number(), config, render.table_xml)
    for name in TEMPLATE_NAMES:
        path = TEMPLATES / f"{name}.docx"
        assert render.lint_template(path) == [], name
        assert render.lint_template(path, ctx.keys()) == [], name
    # lint is not vacuous: a context without the title is reported.
    missing = render.lint_template(TEMPLATES / "下行文.docx", set(ctx) - {"title_lines"})
    assert len(missing) == 1 and "title_lines" in missing[0]


def test_every_run_and_style_names_its_east_asian_font():
    for name in TEMPLATE_NAMES:
        for part, data in parts(TEMPLATES / f"{name}.docx").items():
            root = etree.fromstring(data)
            for run in root.iter(qn("w:r")):
                if run.find(qn("w:t")) is None and run.find(qn("w:instrText")) is None:
                    continue
                fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
                assert fonts is not None and fonts.get(qn("w:eastAsia")), f"{name} {part}: run without eastAsia"
            if part == "word/styles.xml":
                default = root.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
                assert default.get(qn("w:eastAsia")) == L.FONT_FANGSONG
                for style in root.iter(qn("w:style")):
                    fonts = style.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
                    if fonts is not None:
                        assert fonts.get(qn("w:eastAsia")), style.get(qn("w:styleId"))
                named = {f.get(qn("w:eastAsia")) for f in root.iter(qn("w:rFonts"))}
                assert {L.FONT_FANGSONG, L.FONT_XIAOBIAOSONG, L.FONT_HEITI, L.FONT_KAITI, L.FONT_SONGTI} <= named
                assert root.find(f".//{qn('w:b')}") is None or all(
                    b.get(qn("w:val")) == "0" for b in root.iter(qn("w:b")))      # no Word bold anywhere


def test_templates_are_plain_word_documents():
    """What Word/WPS users open: A4, the margins, a 22-line grid, odd/even page-number footers, and
    nothing left from python-docx's default package."""
    for name in TEMPLATE_NAMES:
        with zipfile.ZipFile(TEMPLATES / f"{name}.docx") as z:
            names = set(z.namelist())
            doc = z.read("word/document.xml").decode()
        assert not any("stylesWithEffects" in n or "thumbnail" in n or n.startswith("customXml") for n in names)
        assert '<w:pgSz w:w="11906" w:h="16838"/>' in doc
        assert f'w:top="{L.mm_to_twips(37)}"' in doc and f'w:bottom="{L.mm_to_twips(35)}"' in doc
        assert f'w:left="{L.mm_to_twips(28)}"' in doc and f'w:right="{L.mm_to_twips(26)}"' in doc
        assert f'<w:docGrid w:type="lines" w:linePitch="{L.LINE_PITCH_TWIPS}"/>' in doc
        assert "{{ number }}" in doc or "{{ line.number }}" in doc


# --- fonts.conf --------------------------------------------------------------------------------------

EXPECTED_FACES = {
    L.FONT_FANGSONG: ("Noto Serif CJK SC", "Regular"),
    L.FONT_XIAOBIAOSONG: ("Noto Serif CJK SC", "Bold"),
    L.FONT_HEITI: ("Noto Sans CJK SC", "Regular"),
    L.FONT_KAITI: ("AR PL KaitiM GB", "Regular"),
    L.FONT_SONGTI: ("Noto Serif CJK SC", "Regular"),
}


def fc(args: list[str], conf: Path) -> str:
    env = dict(os.environ, FONTCONFIG_FILE=str(conf))
    return subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=120).stdout


def test_fonts_conf_maps_the_office_names(tmp_path):
    conf = REPO / "fonts" / "fonts.conf"
    for name, (family, style) in EXPECTED_FACES.items():
        got = fc(["fc-match", "-f", "%{family}|%{style}", name], conf)
        assert family in got.split("|")[0].split(",") and style in got.split("|")[1], (name, got)
    # Without the map the names are unknown to fontconfig and all fall back to one face.
    plain = {fc(["fc-match", "-f", "%{family}|%{style}", n], Path("/etc/fonts/fonts.conf")) for n in EXPECTED_FACES}
    mapped = {fc(["fc-match", "-f", "%{family}|%{style}", n], conf) for n in EXPECTED_FACES}
    assert len(plain) == 1 and len(mapped) == 4


def test_fonts_conf_reads_the_instance_fonts_folder(tmp_path):
    """An office drops its licensed faces into the instance's fonts/ folder: fontconfig sees them."""
    folder = tmp_path / "fonts"
    folder.mkdir()
    shutil.copy(REPO / "fonts" / "fonts.conf", folder / "fonts.conf")
    face = Path(fc(["fc-match", "-f", "%{file}", "AR PL KaitiM GB"], REPO / "fonts" / "fonts.conf"))
    shutil.copy(face, folder / "office-kai.ttf")
    env_home = tmp_path / "home"
    env_home.mkdir()
    env = dict(os.environ, FONTCONFIG_FILE=str(folder / "fonts.conf"), HOME=str(env_home),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    files = subprocess.run(["fc-list", "-f", "%{file}\n"], env=env, capture_output=True, text=True,
                           check=True, timeout=120).stdout.split()
    assert str(folder / "office-kai.ttf") in files
