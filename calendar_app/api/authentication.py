"""`Authorization: Bearer scal_…`: a personal access token (accounts/tokens.py). The request
then acts as the token's person, seen in the token's workspace only."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from calendar_app.accounts.tokens import token_authenticate


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("That is not a token of this app.") from None
        use = token_authenticate(secret)
        if use is None:
            raise AuthenticationFailed(
                "This token is unknown, revoked or expired; make a new one in Settings → API "
                "tokens."
            )
        # access.viewer_for(request) then answers with the token's view of its person, so the
        # pages' `<object>_for(request, …)` functions work unchanged.
        request._request._viewer = use.viewer
        return (use.token.user, use)

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "personalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (`scal_…`) from Settings → API tokens.",
        }
