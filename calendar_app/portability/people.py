"""The one account that stands for erased people: what they did stays, by "A former member"
(erasure moves it there; an import maps an archive's former member back to it)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

FORMER_MEMBER_USERNAME = "former-member"
FORMER_MEMBER_NAME = "A former member"


def former_member():
    """The inactive account, made the first time it is needed."""
    User = get_user_model()
    user, created = User._base_manager.get_or_create(
        username=FORMER_MEMBER_USERNAME,
        defaults={"first_name": FORMER_MEMBER_NAME, "is_active": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
