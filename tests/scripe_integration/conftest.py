"""The network, seen from the socket module: what names resolve to, which connections this
process opens, and a port on this machine that counts who connects. For the tests of where
the server may send requests (the destination rule)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator

import pytest

# A public address for names in these tests. Nothing ever connects to it: `connections`
# refuses every connection that would leave this machine.
PUBLIC = "93.184.215.14"
LOOPBACK = frozenset({"127.0.0.1", "::1"})


class FakeDNS:
    """Answers for some names at `socket.getaddrinfo`, where the destination rule and the HTTP
    client both ask. A name's answers are given in turn, the last one for good; a name with no
    answers does not resolve. Other names resolve as usual."""

    def __init__(self, real) -> None:
        self.real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: dict[str, int] = defaultdict(int)

    def answer(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self.real(host, port, family, type, proto, flags)
        self.asked[name] += 1
        queue = self.answers[name]
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        port = int(port or 0)
        found = []
        for address in addresses:
            v6 = ":" in address
            if family not in (0, socket.AF_INET6 if v6 else socket.AF_INET):
                continue
            sockaddr = (address, port, 0, 0) if v6 else (address, port)
            kind = socket.AF_INET6 if v6 else socket.AF_INET
            found.append((kind, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return found


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDNS:
    dns = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns


class Connections:
    """Every connection this process opens, by (address, port). Those to loopback go ahead;
    any other is refused at once, as a host that is down would, so no test reaches out."""

    def __init__(self) -> None:
        self.made: list[tuple[str, int]] = []

    def to(self, address: str) -> list[tuple[str, int]]:
        return [made for made in self.made if made[0] == address]


@pytest.fixture
def connections(monkeypatch) -> Connections:
    seen = Connections()
    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            seen.made.append((address[0], address[1]))
            if address[0] not in LOOPBACK:
                raise ConnectionRefusedError(111, "Connection refused (test)")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


class Listener:
    """A port on 127.0.0.1 that counts the connections it accepts. Each is answered with
    `reply` and closed (b"": closed at once); with `reply=None` it is held open, silent."""

    def __init__(self, reply: bytes | None = b"") -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.reply = reply
        self.accepted = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:  # closed
                return
            self.accepted += 1
            if self.reply is None:
                self.held.append(conn)
                continue
            try:
                if self.reply:
                    conn.recv(65536)
                    conn.sendall(self.reply)
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in the thread
        self.server.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def listen() -> Iterator:
    """Starts Listeners; closes them after the test."""
    started: list[Listener] = []

    def start(reply: bytes | None = b"") -> Listener:
        listener = Listener(reply)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.close()


@pytest.fixture
def listener(listen) -> Listener:
    return listen()


def closed_port() -> int:
    """A port on 127.0.0.1 on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
