"""The 收文处理笺 (文件处理单 of a received document): made when the document is registered, made
again whenever its handling changes, filed in the document's record as a PDF/A (with its .docx).

Rendered from ``templates/收文处理笺.docx`` (scripts/build_incoming_templates.py) through
``render.render_template`` (docxtpl, autoescape, leftover-tag and value checks) and converted by
LibreOffice like every other document.
"""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..model import cn_date
from .register import Incoming

TEMPLATE = "收文处理笺"


def template_path(config: Config) -> Path:
    from ..yearend.catalogue import template_path as tp

    return tp(config, TEMPLATE)


def _cn(iso: str | None) -> str:
    import datetime as dt

    if not iso:
        return ""
    try:
        return cn_date(dt.date.fromisoformat(iso[:10]))
    except ValueError:
        return iso


def context(row: Incoming, config: Config) -> dict:
    """What the form shows: the register row as the clerk and the leaders read it."""
    received = row.received_at[:16].replace("T", " ")
    return {
        "org": config.organisation.name,
        "ref": row.reference,
        "received": received,
        "sender": row.sender or "",
        "number": row.sender_number or "",
        "secrecy": row.secrecy or "",
        "urgency": row.urgency or "",
        "copies": str(row.copies) if row.copies else "",
        "deadline": cn_date(row.deadline) if row.deadline else "",
        "title": row.title or "",
        "attachments": "；".join(row.attachments),
        "opinion": row.opinion or "",
        "opinion_by": f"拟办人：{row.opinion_by}　{_cn(row.opinion_at)}" if row.opinion else "",
        "instructions": [{"text": i.text, "leader": i.leader, "date": _cn(i.date),
                          "supervise": f"（已交办督办：{i.supervise}）" if i.supervise else ""}
                         for i in row.instructions],
        "lead_unit": row.lead_unit or "",
        "circulation": "",
        "result": row.result or "",
        "reply": row.reply_ref or "",
        "done": _cn(row.done_at),
        "note": "；".join(x for x in (f"待补：{'、'.join(row.missing())}" if row.missing() else "",
                                      f"与 {row.duplicate_of} 重复，经确认另行登记" if row.duplicate_of else "") if x),
    }


def render_slip(row: Incoming, config: Config, out_docx: Path, out_pdf: Path, *, converter=None) -> tuple[Path, Path]:
    """The 处理笺 of ``row`` as .docx and PDF/A-2b (written atomically)."""
    from ..convert import convert_once
    from ..render import render_template

    ctx = context(row, config)
    render_template(template_path(config), ctx, out_docx)
    if converter is not None:
        converter.convert(out_docx, out_pdf)
    else:
        convert_once(out_docx, out_pdf, config)
    return out_docx, out_pdf
