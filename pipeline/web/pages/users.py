"""用户: accounts for the 管理 role — list, add, roles, disable/enable, new password — through
pipeline.accounts (the same calls as `gongwen user …`), each change an event under the admin's name.
The page also shows the one permission table."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ...accounts import ROLE_NOTES, ROLES, AccountError, User, permission_table
from ..app import Nav, form_text, render, require, state_of

router = APIRouter()
NAV = (Nav("用户", "/users", "users", 90),)


def _page(request: Request, user: User, *, error: str = "", done: str = "", status: int = 200):
    st = state_of(request)
    return render(request, "users.html", {
        "users": st.accounts.list(), "roles": ROLES, "role_notes": ROLE_NOTES,
        "table": permission_table(st.config), "error": error, "done": done}, user=user, status=status)


@router.get("/users")
def users_page(request: Request, user: User = Depends(require("users"))):
    return _page(request, user)


@router.post("/users")
async def users_change(request: Request, user: User = Depends(require("users"))):
    form = await request.form()
    st = state_of(request)
    op, name = form_text(form, "op"), form_text(form, "name").strip()
    try:
        if op == "add":
            st.accounts.add(name, form.getlist("roles"), form_text(form, "password"), actor=user.name)
            done = f"已新建用户 {name}"
        elif op == "roles":
            st.accounts.set_roles(name, form.getlist("roles"), actor=user.name)
            done = f"已更改 {name} 的角色"
        elif op in ("disable", "enable"):
            if name == user.name and op == "disable":
                raise AccountError("不能停用自己的账号")
            st.accounts.set_active(name, op == "enable", actor=user.name)
            done = f"已{'启用' if op == 'enable' else '停用'} {name}"
        elif op == "password":
            st.accounts.set_password(name, form_text(form, "password"), actor=user.name)
            done = f"已为 {name} 设置新密码"
        else:
            raise AccountError("未知的操作")
    except AccountError as e:
        return _page(request, user, error=str(e), status=400)
    if name == user.name:   # one's own change ends one's session (see current_user)
        return RedirectResponse("/login", status_code=303)
    return _page(request, user, done=done)
