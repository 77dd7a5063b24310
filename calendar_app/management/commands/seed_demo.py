"""Creates the demo logins that `make run` prints. Safe to run again: it resets them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_PASSWORD = "demo"  # noqa: S105 - a local demo login, printed on purpose

DEMO_USERS = [
    # username, full name, staff and superuser
    ("editor", "Erin Editor", False),
    ("manager", "Max Manager", False),
    ("admin", "Ada Admin", True),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo users editor, manager and admin, all with password 'demo'."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        for username, full_name, is_admin in DEMO_USERS:
            first, last = full_name.split(" ", 1)
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = f"{username}@example.com"
            user.is_staff = user.is_superuser = is_admin
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write("Demo logins (password for all: demo): editor, manager, admin")
