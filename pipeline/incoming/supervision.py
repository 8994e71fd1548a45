"""The seam to 督查督办: a 批示 that assigns work becomes a 督办件 through
``pipeline.supervise.add_item(ledger, config, *, matter, source_type, source, lead_unit, co_units=(),
leader=None, assigned, deadline=None, actor, source_ref=None)`` — the one function the supervision
module offers for it. It is looked up when needed, so 收文 works on an instance without 督办 and a
test can pass a fake with the same signature.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from ..errors import GongwenError, IncomingError

SOURCE_TYPE = "领导批示"

AddItem = Callable[..., object]


def default_add_item() -> AddItem:
    try:
        from ..supervise import add_item
    except ImportError as e:
        raise IncomingError("督办模块不可用，批示交办的事项无法建立督办件；请升级 gongwen 后重试（批示未记录）") from e
    return add_item


def item_reference(item: object) -> str:
    """The 督办编号 of what ``add_item`` returned (a record with a reference/number, or the text)."""
    if isinstance(item, str):
        return item
    for attr in ("reference", "number", "ref", "code"):
        v = getattr(item, attr, None)
        if isinstance(v, str) and v:
            return v
        ref = getattr(v, "reference", None)
        if isinstance(ref, str) and ref:
            return ref
    if isinstance(item, dict):
        for key in ("reference", "number", "督办编号"):
            if item.get(key):
                return str(item[key])
    raise IncomingError(f"督办模块返回的督办件无法识别（{type(item).__name__}）")


def create_item(ledger, config, *, add_item: AddItem, incoming_ref: str, number: int, title: str | None,
                leader: str, text: str, date: dt.date, lead_unit: str, co_units: tuple[str, ...],
                deadline: dt.date | None, actor: str) -> str:
    """One 督办件 for the ``number``-th 批示 on the 收文 ``incoming_ref``; returns its 督办编号. Its
    ``source_ref`` names the 收文 and the 批示, so the same 批示 given again (after a crash between
    the two registers) finds the item already made instead of making a second."""
    matter = text if not title else f"{text}（{title}）"
    source = f"{incoming_ref} {leader}批示（{date.isoformat()}）"
    try:
        item = add_item(ledger, config, matter=matter, source_type=SOURCE_TYPE, source=source,
                        lead_unit=lead_unit, co_units=tuple(co_units), leader=leader, assigned=date,
                        deadline=deadline, actor=actor,
                        source_ref=f"{incoming_ref}#批示{number}")
    except GongwenError:
        raise
    except (TypeError, ValueError) as e:
        raise IncomingError(f"建立督办件失败：{e}") from e
    return item_reference(item)
