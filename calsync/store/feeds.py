"""Subscription-feed tokens and the feeds' ETag / Last-Modified state.

Why the token itself is stored (not only a hash): the page 我的日历订阅 must show a person's
subscription links again on every visit, and a calendar app keeps the same URL in clear text
anyway. The token protects read access to data that sits in this same database, so a reader of
the database gains nothing from it. Lookups still go through ``token_hash`` (sha256, unique
index), and the found row is compared with ``hmac.compare_digest``: no lookup or comparison
runs in time that depends on how much of a guessed token is right. Rotating replaces both, so
the old URL answers 404 at once. Audit rows record creation and rotation, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from calsync.errors import StoreError
from calsync.store.base import Repository, to_record, utc
from calsync.store.models import FeedStateRow, FeedTokenRow
from calsync.store.records import FeedToken

TOKEN_BYTES = 24          # 192 bits, 32 URL-safe characters


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class FeedsRepository(Repository):
    def feed_token(self, person_id: str, organization: str, *, actor: str,
                   at: datetime | None = None) -> str:
        """The person's feed token, created on first use."""
        if not person_id or not organization:
            raise StoreError("a feed token needs a person and an organization")
        with self._reading() as session:
            row = session.get(FeedTokenRow, person_id)
            if row is not None:
                return row.token
        now = utc(at)
        token = _new_token()
        try:
            with self._writing() as session:
                session.add(FeedTokenRow(person_id=person_id, organization=organization,
                                         token=token, token_hash=token_hash(token),
                                         created_at=now, rotated_at=None))
                self._add_audit(session, at=now, actor=actor, action="feed.token.create",
                                target=f"feed:{person_id}", after={"organization": organization})
        except StoreError:
            # Another request created it first: theirs wins.
            with self._reading() as session:
                row = session.get(FeedTokenRow, person_id)
                if row is None:
                    raise
                return row.token
        return token

    def rotate_feed_token(self, person_id: str, *, actor: str,
                          at: datetime | None = None) -> str:
        """Replace the person's token; the old feed URLs stop working at once."""
        now = utc(at)
        token = _new_token()
        with self._writing() as session:
            row = session.get(FeedTokenRow, person_id, with_for_update=True)
            if row is None:
                raise StoreError(f"{person_id} has no feed token to rotate yet")
            row.token, row.token_hash, row.rotated_at = token, token_hash(token), now
            self._add_audit(session, at=now, actor=actor, action="feed.token.rotate",
                            target=f"feed:{person_id}", after={"rotated_at": now})
        return token

    def get_feed_token(self, person_id: str) -> FeedToken | None:
        with self._reading() as session:
            row = session.get(FeedTokenRow, person_id)
            return to_record(row, FeedToken) if row is not None else None

    def person_for_token(self, token: str) -> tuple[str, str] | None:
        """``(person_id, organization)`` of a current token; None for unknown or rotated."""
        if not token or len(token) > 200:
            return None
        query = select(FeedTokenRow).where(FeedTokenRow.token_hash == token_hash(token))
        with self._reading() as session:
            row = session.scalar(query)
        if row is None or not hmac.compare_digest(row.token.encode(), token.encode()):
            return None
        return row.person_id, row.organization

    def feed_state(self, key: str, etag: str, now: datetime | None = None) -> datetime:
        """Record the feed's current ETag; return its Last-Modified (UTC, whole seconds).

        Last-Modified changes only when the ETag does, and then moves strictly forward (at
        least one second past the old value, even if the clock went back), so a client's
        If-Modified-Since never hides a change.
        """
        stamp = utc(now).replace(microsecond=0)
        for attempt in range(2):
            try:
                with self._writing() as session:
                    row = session.get(FeedStateRow, key, with_for_update=True)
                    if row is None:
                        session.add(FeedStateRow(feed_key=key, etag=etag, last_modified=stamp))
                        return stamp
                    if row.etag != etag:
                        row.etag = etag
                        row.last_modified = max(stamp, row.last_modified + timedelta(seconds=1))
                    return row.last_modified
            except StoreError:
                if attempt:       # a concurrent first insert: the second round updates it
                    raise
        raise AssertionError("unreachable")
