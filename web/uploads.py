"""Files people upload (agenda materials, minutes): stored under a random name in a private
folder of the instance, size-limited while streaming, and only ever sent back as a download."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

from flask import Response, send_file

CHUNK = 64 * 1024


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.megabytes = limit // (1024 * 1024)


class UploadEmpty(Exception):
    pass


def label(filename: str) -> str:
    """The sender's file name as a label only (no path, no control characters)."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:200]


def save(stream: IO[bytes], folder: Path, ext: str, limit: int) -> str:
    """Write ``stream`` to ``folder`` (0700) as a new 0600 file ``<random>.<ext>``; its name.
    Nothing is left behind when it is over ``limit`` bytes or empty."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{secrets.token_hex(16)}.{ext}"
    path = folder / name
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            fh.write(chunk)
    if size > limit:
        path.unlink()
        raise UploadTooLarge(limit)
    if size == 0:
        path.unlink()
        raise UploadEmpty
    return name


def download(path: Path, name: str) -> Response:
    """Always a download, never rendered: an uploaded file cannot script this site."""
    response = send_file(path, as_attachment=True, download_name=name,
                         mimetype="application/octet-stream")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
