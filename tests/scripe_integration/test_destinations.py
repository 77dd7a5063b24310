"""The destination rule (`scripe_integration.destinations`): which addresses the server may
send requests to, and the client's transport, which connects only to the addresses it checked
while TLS and the Host header keep the name."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme

from scripe_integration.client import PublicOnlyTransport, ScripeClient
from scripe_integration.contract import ScripeError
from scripe_integration.destinations import (
    REFUSED,
    DestinationRefused,
    NameNotFound,
    check_url,
    is_public_address,
)
from tests.scripe_integration.conftest import PUBLIC

PUBLIC_ADDRESSES = ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
OTHER_ADDRESSES = {
    "loopback": "127.0.0.1",
    "loopback elsewhere in 127/8": "127.8.9.10",
    "private 10/8": "10.0.0.1",
    "private 172.16/12": "172.16.5.4",
    "private 192.168/16": "192.168.1.1",
    "link-local (cloud metadata)": "169.254.169.254",
    "shared address space (CGNAT)": "100.64.0.1",
    "unspecified": "0.0.0.0",  # noqa: S104 (a value under test, not a bind)
    "multicast": "224.0.0.1",
    "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "documentation": "192.0.2.1",
    "benchmarking": "198.18.0.1",
    "IPv6 loopback": "::1",
    "IPv6 unspecified": "::",
    "IPv6 link-local": "fe80::1",
    "IPv6 link-local with a zone": "fe80::1%eth0",
    "IPv6 unique local": "fc00::1",
    "IPv6 site-local": "fec0::1",
    "IPv6 multicast": "ff02::1",
    "IPv6 documentation": "2001:db8::1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "IPv4-mapped private": "::ffff:10.0.0.1",
    "IPv4-compatible loopback": "::127.0.0.1",
    "NAT64 of a private address": "64:ff9b::a00:1",
    "6to4 of a private address": "2002:a00:1::",
    "Teredo": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "not an address": "example.com",
}


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_a_public_address_is_allowed(address):
    assert is_public_address(address)


@pytest.mark.parametrize("address", OTHER_ADDRESSES.values(), ids=OTHER_ADDRESSES.keys())
def test_every_other_address_is_not(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://scripe.example/v1",
        "ftp://scripe.example/v1",
        "https:///v1",
        "https://scripe.example:99999/v1",
        "https://localhost/v1",
        "https://api.localhost./v1",
        "https://10.0.0.1/v1",
        "https://[fe80::1]/v1",
    ],
)
def test_the_url_itself_can_be_refused_without_asking_dns(url, fake_dns):
    with pytest.raises(DestinationRefused):
        check_url(url, allow_local=False, resolve=False)
    assert not fake_dns.asked


def test_a_name_is_judged_by_every_address_it_resolves_to(fake_dns):
    fake_dns.answer("public.example", [PUBLIC, "2606:4700:4700::1111"])
    fake_dns.answer("mixed.example", [PUBLIC, "fd00::7"])
    check_url("https://public.example/v1", allow_local=False)
    with pytest.raises(DestinationRefused):
        check_url("https://mixed.example/v1", allow_local=False)


def test_a_name_that_does_not_resolve_is_said_apart_from_a_private_one(fake_dns):
    """QA: https://example.com/hook, unresolvable where the server runs, was told to use a
    public address."""
    fake_dns.answer("nowhere.example")
    fake_dns.answer("intranet.example", ["10.1.2.3"])
    with pytest.raises(NameNotFound) as unknown:
        check_url("https://nowhere.example/hook", allow_local=False)
    assert str(unknown.value) == "We could not find nowhere.example; check the address"
    with pytest.raises(DestinationRefused) as refused:
        check_url("https://intranet.example/hook", allow_local=False)
    assert str(refused.value) == REFUSED


def test_allowing_local_hosts_lifts_the_rule_but_not_the_shape(fake_dns):
    check_url("http://127.0.0.1:8765/v1", allow_local=True)
    check_url("http://sandbox:8765/v1", allow_local=True)
    with pytest.raises(DestinationRefused):
        check_url("file:///etc/passwd", allow_local=True)
    assert not fake_dns.asked


def test_without_a_choice_the_setting_decides(settings):
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = False
    with pytest.raises(DestinationRefused):
        check_url("http://127.0.0.1:8765/v1")
    settings.SCRIPE_ALLOW_LOCAL_HOSTS = True
    check_url("http://127.0.0.1:8765/v1")


# the transport ---------------------------------------------------------------------------------


def test_the_client_connects_to_the_address_it_checked_not_to_a_later_answer(
    fake_dns, connections, listener
):
    # DNS rebinding within one request would be: a public answer for the check, this machine
    # for the connection. The transport asks once and connects to what it checked.
    fake_dns.answer("rebind.example", [PUBLIC], ["127.0.0.1"])
    scripe = ScripeClient(f"https://rebind.example:{listener.port}/v1", "scripe_sk_live_x1234567")
    for _ in range(2):
        with pytest.raises(ScripeError) as failed:
            scripe.workspace_me()
        assert failed.value.code == "connection_error"
    assert connections.made == [(PUBLIC, listener.port)]  # the second call was refused
    assert listener.accepted == 0 and fake_dns.asked["rebind.example"] == 2


def test_the_next_checked_address_is_tried_when_one_refuses(fake_dns, connections):
    fake_dns.answer("two.example", [PUBLIC, "8.8.4.4"])
    with pytest.raises(ScripeError):
        ScripeClient("https://two.example/v1", "scripe_sk_live_x1234567").workspace_me()
    assert connections.made == [(PUBLIC, 443), ("8.8.4.4", 443)]


class TLSServer:
    """An HTTPS server on 127.0.0.1 with a certificate for `name`, that records the Host
    header and the SNI name of each request."""

    def __init__(self, ca: trustme.CA, name: str) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        self.sni: list[str | None] = []
        context.sni_callback = lambda sock, server_name, ctx: self.sni.append(server_name)
        self.hosts: list[str] = []
        hosts = self.hosts

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the connection for the next request

            def do_GET(self) -> None:
                hosts.append(self.headers["Host"])
                body = json.dumps({"ok": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca) -> Iterator:
    started: list[TLSServer] = []

    def start(name: str) -> TLSServer:
        server = TLSServer(ca, name)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def pinned_client(ca: trustme.CA, asked: list) -> httpx.Client:
    """A client whose transport takes 127.0.0.1 as the checked address of any name (a stand-in
    for the rule, which would refuse this machine), and trusts the test CA only."""
    context = ssl.create_default_context()
    ca.configure_trust(context)

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["127.0.0.1"]

    return httpx.Client(transport=PublicOnlyTransport(resolve=resolve, verify=context))


def test_tls_and_the_host_header_keep_the_name_while_the_checked_address_is_connected(
    ca, tls_server
):
    server, asked = tls_server("scripe.example"), []
    with pinned_client(ca, asked) as client:
        response = client.get(f"https://scripe.example:{server.port}/v1/workspaces/me")
    assert response.json() == {"ok": True}
    assert asked == [("scripe.example", server.port)]
    assert server.hosts == [f"scripe.example:{server.port}"]
    assert server.sni == ["scripe.example"]
    assert response.request.url.host == "scripe.example"


def test_a_certificate_for_another_name_is_refused(ca, tls_server):
    server = tls_server("elsewhere.example")
    with pinned_client(ca, []) as client, pytest.raises(httpx.ConnectError):
        client.get(f"https://scripe.example:{server.port}/v1/workspaces/me")
    assert server.hosts == []


def test_a_connection_verified_for_one_name_never_carries_another_names_request(ca, tls_server):
    server = tls_server("scripe.example")
    with pinned_client(ca, []) as client:
        assert client.get(f"https://scripe.example:{server.port}/v1/a").status_code == 200
        # Same address and port, so the same pool key; the certificate is not other.example's.
        with pytest.raises(httpx.ConnectError):
            client.get(f"https://other.example:{server.port}/v1/b")
    assert server.hosts == [f"scripe.example:{server.port}"]


def test_plain_http_is_refused_before_anything_is_resolved(ca, connections):
    asked: list = []
    with pinned_client(ca, asked) as client, pytest.raises(httpx.ConnectError):
        client.get("http://scripe.example/v1/workspaces/me")
    assert asked == [] and connections.made == []
