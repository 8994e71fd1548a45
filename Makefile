# gongwen — the two commands a new machine needs:
#   make run    install whatever is missing, then run the service on ./config.yaml
#   make test   install whatever is missing, then run every test
# Both work on a fresh Debian 12 machine as root with only the package registries.

SHELL        := /bin/bash
VENV         := .venv
PY           := $(VENV)/bin/python
SYSTEM_PY    := /usr/bin/python3
# Debian packages: LibreOffice (headless), the UNO bridge for unoserver, poppler tools,
# CJK faces that stand in for the office fonts (see fonts/fonts.conf), Debian's Python with venv,
# Tesseract with its Simplified Chinese data for OCR of received scans (OCRmyPDF comes from PyPI and
# needs no Ghostscript: gongwen uses its internal PDF/A backend), Chromium for the browser tests
# (driven by Playwright from PyPI; no browser download) and wrk for the web bench.
APT_PACKAGES := libreoffice-writer-nogui python3-uno poppler-utils fontconfig \
                fonts-noto-cjk fonts-arphic-gkai00mp fonts-arphic-ukai \
                python3 python3-venv tesseract-ocr tesseract-ocr-chi-sim chromium wrk
STAMP        := $(VENV)/.installed
CONFIG       ?= config.yaml
PYTEST_ARGS  ?=

.PHONY: run test test-fast lint system-deps install bench templates clean-venv

run: install
	$(VENV)/bin/gongwen --config $(CONFIG) run

test: install lint
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Errors and likely bugs (pyproject.toml [tool.ruff]) and the package's type check
# (pyproject.toml [tool.mypy]); part of `make test`.
lint: install
	$(VENV)/bin/ruff check pipeline tests bench samples scripts
	$(VENV)/bin/mypy

# The quick loop while changing code: every test that needs no LibreOffice, OCR or browser and is not
# marked slow (tests/conftest.py keeps the markers honest). CI runs `make test`, all of it.
test-fast: install
	$(VENV)/bin/python -m pytest -m "not slow and not libreoffice and not ocr and not browser" $(PYTEST_ARGS)

bench: install
	$(VENV)/bin/python -m bench

# Install only what is missing: dpkg tells which packages are absent.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to install:$$missing" >&2; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The venv uses Debian's Python so that LibreOffice's `uno` module (built for it) imports;
# a .pth file points at a folder of links to uno.py/unohelper.py instead of exposing all of
# dist-packages (see docs in README "Set-up").
$(STAMP): pyproject.toml | system-deps
	@test -x $(PY) || $(SYSTEM_PY) -m venv $(VENV)
	@mkdir -p $(VENV)/uno
	@ln -sf /usr/lib/python3/dist-packages/uno.py /usr/lib/python3/dist-packages/unohelper.py $(VENV)/uno/
	@echo "$(abspath $(VENV))/uno" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/gongwen-uno.pth
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: system-deps $(STAMP)

templates: install
	$(PY) scripts/build_templates.py
	$(PY) scripts/build_archive_templates.py
	$(PY) scripts/build_incoming_templates.py
	$(PY) scripts/build_supervise_templates.py

clean-venv:
	rm -rf $(VENV)
