"""The page modules, each with a ``router`` and optional ``NAV`` entries. To add a page (清样/签发,
督办, 收文), write its module beside these and list it here; its routes, navigation entry and the
permission it needs (pipeline.accounts.PERMISSIONS) are all it has to say."""
from __future__ import annotations

from . import document, login, registers, search, supervise, users, yearend

MODULES = (login, search, document, registers, supervise, yearend, users)
