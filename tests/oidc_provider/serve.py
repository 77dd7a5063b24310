"""Runs the test OpenID Connect provider on 127.0.0.1:<port>: migrates its own SQLite
database, adds the users and the one client named in the environment, and serves."""

from __future__ import annotations

import json
import os
import sys


def main(port: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for username, password, email, _verified in json.loads(os.environ["OIDC_USERS"]):
        User.objects.create_user(username, email, password)
    Application.objects.create(
        name="Calendar",
        client_id=os.environ["OIDC_CLIENT_ID"],
        client_secret=os.environ["OIDC_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["OIDC_REDIRECT_URIS"],
        algorithm=Application.RS256_ALGORITHM,
        # The log-in page is the step the tests go through; no second consent click.
        skip_authorization=True,
    )
    run("127.0.0.1", port, get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
