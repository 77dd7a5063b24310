"""The claims the test provider puts in ID tokens and userinfo: the user's email, and whether
it is verified (a user listed unverified in OIDC_USERS is not)."""

from __future__ import annotations

import json
import os

from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    oidc_claim_scope = None  # every claim, whichever scopes the client asked for

    def get_additional_claims(self, request) -> dict:
        user = request.user
        verified = {row[2]: row[3] for row in json.loads(os.environ["OIDC_USERS"])}
        return {
            "email": user.email,
            "email_verified": bool(verified.get(user.email, False)),
            "name": user.get_full_name() or user.username,
        }
