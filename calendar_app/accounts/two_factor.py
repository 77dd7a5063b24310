"""Who must have a second factor, and leading them to enrol one (#28).

A workspace may require two factors of its admins ("Require two-factor for admins", on for new
workspaces) or of everyone. Whether a person must enrol is decided when they sign in (one query
then, none on every later request): the session remembers it, and the enrolment middleware
(web/middleware.py) sends them to the two-factor page until an authenticator app or a passkey
is added. Separately, the Django admin wants a second factor of every staff user when
ADMIN_REQUIRES_TWO_FACTOR is on.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.contrib.auth.signals import user_logged_in
from django.db.models import Q
from django.dispatch import receiver
from django.http import HttpRequest

from calendar_app.models import Membership, Role

# The session's note that this person must enrol before using the app.
MUST_ENROL = "two-factor-must-enrol"
# A recovery code alone is not a second factor: it is the way back when one is lost.
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()


def two_factor_required(user) -> bool:
    """Whether one of the person's workspaces requires them to have a second factor."""
    return (
        Membership.objects.filter(user_id=user.pk)
        .filter(
            Q(workspace__require_two_factor_everyone=True)
            | Q(role=Role.ADMIN, workspace__require_two_factor_admins=True)
        )
        .exists()
    )


def must_enrol(user) -> bool:
    return two_factor_required(user) and not has_second_factor(user)


@receiver(user_logged_in, dispatch_uid="two_factor_enrolment_on_log_in")
def _note_enrolment_at_log_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and must_enrol(user):
        request.session[MUST_ENROL] = True


@receiver(authenticator_added, dispatch_uid="two_factor_enrolled")
def _enrolled(sender, request: HttpRequest | None, user, authenticator, **kwargs) -> None:
    if request is not None and authenticator.type in SECOND_FACTORS:
        request.session.pop(MUST_ENROL, None)
