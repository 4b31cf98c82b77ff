"""People's names for the page: stored actors (audit log, decisions) are user ids such as
``zhou_mishukezhang``; the page shows the directory's name instead (周敏)."""

from __future__ import annotations

from flask import Flask

from .core import core


def who(actor: object) -> str:
    """The directory name of a person id; anything else (``calsync web``, ``cli``) as is."""
    text = "" if actor is None else str(actor)
    for org in core().policies.organizations.values():
        person = org.people.get(text)
        if person is not None:
            return person.name
    return text


def register(app: Flask) -> None:
    app.jinja_env.filters["who"] = who
