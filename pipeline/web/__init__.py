"""The browser app of an instance (`gongwen serve`): server-rendered pages over the same library
functions the CLI calls — search, documents, registers, year-end, accounts.

Layout:
- ``app.py``: ``create_app(config)`` — the state (one Ledger, one search index, the archive store,
  the jobs), sessions, CSRF, secure headers, who is logged in and what they may do.
- ``pages/``: one module per page (检索, 文件, 登记簿, 年终, 用户, 登录); each has a ``router`` and a ``NAV``
  entry. A new page (清样/签发, 督办, 收文) is one more module listed in ``pages.MODULES``.
- ``previews.py``: page images of a 正本, rendered once with pdftoppm and cached in the work area.
- ``jobs.py``: year-end work (archive, check, handover) as background jobs with progress, kept.
- ``templates/``, ``static/``: Jinja2 templates and the CSS/JS (no build step, nothing fetched).
"""
from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
