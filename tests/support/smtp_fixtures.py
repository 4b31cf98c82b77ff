"""A real SMTP server on loopback (aiosmtpd) that records what it accepted, and a script of
faults to answer with: a 4xx, a dropped connection, a stall (the client times out), or a
5xx for one recipient. Mocks nowhere: the faults are what a real server would do."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from tests.support.servers import free_port

STALL_SECONDS = 2.0


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return email.message_from_bytes(self.data, policy=default)


@dataclass
class Recorder:
    """The handler: ``faults`` is consumed one per DATA command ("451", "drop", "stall");
    ``refuse`` maps an address to the RCPT answer it gets every time."""

    delivered: list[Delivered] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    data_commands: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        fault = self.faults.pop(0) if self.faults else None
        if fault == "451":
            return "451 4.3.0 try again later"
        if fault == "drop":
            server.transport.close()   # the connection dies before the server answers
            return "250 never seen"
        if fault == "stall":
            await asyncio.sleep(STALL_SECONDS)  # the client gave up meanwhile
            return "451 4.4.2 too slow"
        self.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos),
                                        bytes(envelope.content)))
        return "250 2.0.0 accepted"

    def by_message_id(self) -> dict[str, list[Delivered]]:
        out: dict[str, list[Delivered]] = {}
        for d in self.delivered:
            out.setdefault(str(d.message["Message-ID"]), []).append(d)
        return out


@dataclass
class SmtpServer:
    recorder: Recorder
    port: int

    def url(self, timeout: float = 1.0) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout={timeout}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(recorder, controller.port)
    finally:
        controller.stop()


SMTP_USER = "mishuke@glb.example.org"
SMTP_PASSWORD = "p@ss:word/1"   # characters that must be percent-encoded in the URL


def _check_login(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    """The same server, refusing mail without AUTH (PLAIN/LOGIN over loopback, no TLS)."""
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(),
                            authenticator=_check_login, auth_required=True,
                            auth_require_tls=False)
    controller.start()
    try:
        yield SmtpServer(recorder, controller.port)
    finally:
        controller.stop()
