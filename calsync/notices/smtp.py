"""SMTP delivery (the I/O edge): ``CALSYNC_SMTP_URL`` and how SMTP answers are classified.

URLs: ``smtp://host[:25]`` (plain), ``smtp+starttls://user:pass@host[:587]`` (STARTTLS, required),
``smtps://user:pass@host[:465]`` (implicit TLS). ``?timeout=SECONDS`` (default 30). User and
password are percent-decoded.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from calsync.errors import UsageError
from calsync.settings import ENV_SMTP_URL

_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpConfig:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def masked(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in _PORTS or not parts.hostname:
        raise UsageError(f"{ENV_SMTP_URL} must look like smtp+starttls://user:pass@host:587, "
                         f"smtps://user:pass@host:465 or smtp://host:25")
    try:
        port = parts.port or _PORTS[parts.scheme]
        timeout = float(parse_qs(parts.query).get("timeout", ["30"])[0])
    except ValueError:
        raise UsageError(f"{ENV_SMTP_URL}: bad port or timeout (write host:587 and "
                         f"?timeout=SECONDS)") from None
    return SmtpConfig(parts.scheme, parts.hostname, port,
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, timeout)


class TransportDown(Exception):
    """The server cannot be reached or refuses the session (connect, TLS, login)."""


@dataclass(frozen=True)
class Outcome:
    """``sent``, ``retry`` (4xx, timeout, dropped connection) or ``failed`` (5xx)."""

    result: str
    detail: str = ""


class SmtpSender:
    """One SMTP session, opened on the first message; ``send`` never raises for a
    message-level answer: it classifies it."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            smtp.ehlo()
            if c.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password or "")
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportDown(f"{c.masked()}: {_describe(exc)}") from None
        return smtp

    def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return self._answer(code, text)
        except ValueError as exc:   # smtplib refuses CR/LF in a command: this message only
            self._reset()
            return Outcome("failed", f"cannot send the message: {' '.join(str(exc).split())}")
        except smtplib.SMTPResponseException as exc:
            return self._answer(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:  # timeouts are OSErrors
            self._drop()
            return Outcome("retry", _describe(exc))
        except smtplib.SMTPException as exc:
            self._drop()
            return Outcome("retry", _describe(exc))
        return Outcome("sent")

    def _answer(self, code: int, text: bytes | str) -> Outcome:
        detail = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
        if 500 <= code < 600:
            self._reset()
            return Outcome("failed", detail)
        self._drop()  # a 4xx (421 closes the session): start afresh next time
        return Outcome("retry", detail)

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
        self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
        self._drop()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
