"""Scopes: reading needs `read` (or the view's `read_scope`, for what only admins may see);
a write needs the scope its view names (`write_scope`, `plan` unless said otherwise). The
person's role still decides what they may do (the access rules the pages use); a scope only
ever narrows it."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def required_scope(request, view) -> str:
    if request.method in SAFE_METHODS:
        return getattr(view, "read_scope", "read")
    return getattr(view, "write_scope", "plan")


class TokenScopes(BasePermission):
    code = "scope_missing"

    def has_permission(self, request, view) -> bool:
        use = request.auth
        if use is None:
            return False
        scope = required_scope(request, view)
        if use.allows(scope):
            return True
        self.message = (
            f"This token lacks the {scope} scope; make a token with it in Settings → API tokens."
        )
        return False
