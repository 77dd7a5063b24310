"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit in a
second Django process (settings.py, urls.py, serve.py here), on a free port, with an RSA key
made by the test. `OidcProvider` starts and stops it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support import ROOT, wait_for

CLIENT_ID = "calendar-client"
CLIENT_SECRET = "calendar-secret-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rsa_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class OidcProvider:
    """The provider's process. `users`: (username, password, email, email_verified);
    `redirect_uris`: the callbacks its one client may return to."""

    def __init__(self, tmp_path, *, users, redirect_uris) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "OIDC_PROVIDER_DB": str(tmp_path / "oidc-provider.sqlite3"),
            "OIDC_RSA_PRIVATE_KEY": rsa_private_key(),
            "OIDC_USERS": json.dumps(list(users)),
            "OIDC_REDIRECT_URIS": " ".join(redirect_uris),
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        }
        environment.pop("DATABASE_URL", None)
        self.log = open(tmp_path / "oidc-provider.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider.serve", str(self.port)],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        # Its own migrations run first: on a machine at full load that took more than 60 s.
        wait_for(self._answers, 150, "the OIDC provider to start")

    def _answers(self) -> bool:
        assert self.process.poll() is None, "the OIDC provider stopped; see its log"
        try:
            url = f"{self.issuer}/.well-known/openid-configuration"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.log.close()
