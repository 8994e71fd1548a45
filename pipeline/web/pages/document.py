"""文件: one filed document — metadata with its Chinese names, page images of the 正本, downloads by
role, the history of events, fixity and signature verification on demand, the 归档章 and 档号.

Files are found by role (正本/定稿/原稿) through the record's metadata, never by a path from the
request; the name the metadata gives must be a plain file name inside the record folder."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse

from ...accounts import User
from ...archive import Record, summary_keys
from ...search.query import parse_archive_code, parse_number
from ..app import Forbidden, allowed, client_of, doc_url, render, require, state_of
from ..security import inside

router = APIRouter()
ROLE_ACTION = {"正本": "download_pdf", "定稿": "download_final", "原稿": "download_original"}


def locate(st, ident: str) -> Record | None:
    """The record for a 文号 or 档号 from a URL: the folder named by the reference, else the search
    index's exact 文号/档号 match (never a walk over the whole archive, never a path)."""
    ident = (ident or "").strip()
    if not ident or len(ident) > 80:
        return None
    rec = st.store.find(ident, scan=False)
    if rec is None:
        exact = parse_number(ident) or parse_archive_code(ident)
        if exact:
            res = st.index().search(exact, limit=5, snippets=False)
            hit = next((h for h in res.hits if exact in (h.id, h.number, h.archive_code)), None)
            if hit is not None:
                rec = st.store.find(hit.id, scan=False)
    if rec is None:
        return None
    root = st.store.root.resolve()
    if not rec.path.resolve().is_relative_to(root):
        return None
    return rec


def _record(request: Request, ident: str) -> Record:
    rec = locate(state_of(request), ident)
    if rec is None:
        raise HTTPException(404)
    return rec


def _value(v) -> str:
    if isinstance(v, list):
        return "、".join(str(x) for x in v)
    return "" if v in (None, "") else str(v)


def last_verification(events) -> object | None:
    return next((e for e in reversed(events) if e.event == "verified"), None)


@router.get("/doc/{ident}")
def document_page(request: Request, ident: str, user: User = Depends(require("read"))):
    st = state_of(request)
    rec = _record(request, ident)
    if ident != rec.reference:           # a 档号 or printed 文号: one canonical address per document
        return RedirectResponse(doc_url(rec.reference), status_code=303)
    m = rec.meta
    events = st.ledger.events(rec.reference)
    files = []
    for f in m.get("电子文件", []):
        role = f.get("稿本", "")
        files.append({"role": role, "name": f.get("计算机文件名", ""), "size": f.get("计算机文件大小"),
                      "format": f.get("格式信息", ""),
                      "url": f"{doc_url(rec.reference)}/file/{quote(role)}" if role in ROLE_ACTION else None,
                      "allowed": role in ROLE_ACTION and allowed(request, user, ROLE_ACTION[role])})
    pages = int(m.get("页数") or 0) if rec.file("正本") else 0
    ctx = {"rec": rec, "meta": [(k, _value(m.get(k))) for k in summary_keys(m) if k in m],
           "files": files, "pages": range(1, pages + 1), "events": events,
           "verification": last_verification(events), "stamp": m.get("归档章"), "signature": m.get("电子签名"),
           "url": doc_url(rec.reference)}
    return render(request, "document.html", ctx, user=user)


@router.get("/doc/{ident}/page/{n}")
def page_image(request: Request, ident: str, n: int, user: User = Depends(require("read"))):
    return _image(request, ident, n, thumb=False)


@router.get("/doc/{ident}/thumb/{n}")
def page_thumb(request: Request, ident: str, n: int, user: User = Depends(require("read"))):
    return _image(request, ident, n, thumb=True)


def _image(request: Request, ident: str, n: int, *, thumb: bool):
    st = state_of(request)
    rec = _record(request, ident)
    png = st.previews.page(rec, n, thumb=thumb)
    if png is None:
        raise HTTPException(404)
    return FileResponse(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/doc/{ident}/file/{role}")
def download(request: Request, ident: str, role: str, user: User = Depends(require("read"))):
    if role not in ROLE_ACTION:
        raise HTTPException(404)
    if not allowed(request, user, ROLE_ACTION[role]):
        raise Forbidden(ROLE_ACTION[role])
    st = state_of(request)
    rec = _record(request, ident)
    entry = next((f for f in rec.meta.get("电子文件", []) if f.get("稿本") == role), None)
    path = inside(rec.path, entry.get("计算机文件名", "")) if entry else None
    if path is None:
        raise HTTPException(404)
    st.ledger.log("downloaded", actor=user.name, reference=rec.reference,
                  detail={"稿本": role, "文件": path.name, "client": client_of(request)})
    name = f"{rec.reference}-{path.name}"
    return FileResponse(path, filename=name, media_type=_media(path.suffix),
                        headers={"Cache-Control": "no-store"}, content_disposition_type="attachment")


def _media(suffix: str) -> str:
    return {".pdf": "application/pdf", ".md": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8",
            ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            }.get(suffix.lower(), "application/octet-stream")


@router.post("/doc/{ident}/verify")
def verify(request: Request, ident: str, user: User = Depends(require("verify"))):
    """Recompute every file's digests (Record.verify) and check the 正本's signatures (sign.verify_pdf),
    the same checks `gongwen show` and `check` make; the result goes into the chain under the user."""
    from ...sign import verify_pdf

    st = state_of(request)
    rec = _record(request, ident)
    fixity = rec.verify()
    pdf = rec.file("正本")
    sigs = verify_pdf(pdf, st.config) if pdf is not None and pdf.is_file() else []
    ok = all(r.ok for r in fixity if r.verified) and bool(sigs) and all(s.ok for s in sigs)
    st.ledger.log("verified", actor=user.name, reference=rec.reference, detail={
        "ok": ok,
        "fixity": [{"file": r.file, "algorithm": r.algorithm, "status": r.status, "ok": r.ok, "verified": r.verified}
                   for r in fixity],
        "signatures": [{"signer": s.signer or s.field, "reason": s.reason, "ok": s.ok, "detail": s.detail,
                        "signed_at": s.signed_at.isoformat(timespec="seconds") if s.signed_at else None}
                       for s in sigs]})
    return RedirectResponse(doc_url(rec.reference) + "#verify", status_code=303)
