"""Reading drafts: ``read_draft`` (any supported draft → one model.Draft), ``probe`` (is this file a
draft we can read?), ``docx_items`` and ``SUPPORTED_SUFFIXES`` — all in ``drafts._read``, loaded on
first use (PEP 562) so that a module needing only the text patterns (``drafts.patterns``: the search
index's line joining, the 督办 时限 reader) does not load the readers, lxml and python-docx with it.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__all__ = ["SUPPORTED_SUFFIXES", "probe", "read_draft", "docx_items"]


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    reader = import_module(f"{__name__}._read")
    try:
        value = getattr(reader, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from ._read import SUPPORTED_SUFFIXES, docx_items, probe, read_draft  # noqa: F401
