"""HTTP/1.1 framing helpers for the fault proxy: raw lines, header blocks and bodies."""

from __future__ import annotations

from typing import BinaryIO

MAX_LINE = 65536
Headers = list[tuple[str, str]]


def get(headers: Headers, name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def readline(f: BinaryIO, eof_ok: bool = False) -> bytes:
    line = f.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE or (not line and not eof_ok):
        raise EOFError("EOF or overlong line")
    return line


def read_exact(f: BinaryIO, n: int) -> bytes:
    if len(data := f.read(n)) != n:
        raise EOFError("EOF in body")
    return data


def read_headers(f: BinaryIO) -> tuple[Headers, bytes]:
    """Header list plus the raw header block (incl. the terminating blank line)."""
    raw, headers = bytearray(), []
    while (line := readline(f)) not in (b"\r\n", b"\n"):
        raw += line
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    return headers, bytes(raw + line)


def read_body(f: BinaryIO, headers: Headers) -> bytes | None:
    """Raw body bytes; None means 'delimited by connection close' (responses only)."""
    if "chunked" in (get(headers, "Transfer-Encoding") or "").lower():
        raw = bytearray()
        while True:
            raw += (line := readline(f))
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:  # then trailers up to the blank line
                while (t := readline(f)) not in (b"\r\n", b"\n"):
                    raw += t
                return bytes(raw + t)
            raw += read_exact(f, size + 2)  # data + CRLF
    length = get(headers, "Content-Length")
    return None if length is None else read_exact(f, int(length))
