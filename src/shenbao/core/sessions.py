"""Idle sessions that do not write on every request.

A session ends after `SESSION_COOKIE_AGE` (30 minutes) without a request. Django renews that time by saving the
session on every request (`SESSION_SAVE_EVERY_REQUEST`): one UPDATE, on SQLite a write transaction, per page.
Here the store remembers the expiry it read, and `SessionRenewalMiddleware` saves the session only when its
renewal is older than `SESSION_RENEW_AFTER` seconds (60 by default): idle time still ends it within 30 minutes
plus at most a minute, and a clerk's busy minute costs one write instead of one per request.
With Redis the cached store (core/sessions_cached.py) keeps the expiry in its cached copy; a store that
cannot tell its expiry renews on every request, as Django does.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.utils import timezone
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    """The database store, keeping the expiry date of the row it loaded (`expire_date`, None before a load)."""

    expire_date: dt.datetime | None = None

    def _get_session_from_db(self):
        s = super()._get_session_from_db()
        if s is not None:
            self.expire_date = s.expire_date
        return s

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        self.expire_date = obj.expire_date
        return obj

    def _get_new_session_key(self):
        """A fresh random key, not looked up first: a new session is stored with an INSERT that refuses a key
        in use (save(must_create=True)), and create() then draws another, so the lookup guarded nothing."""
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self):
        """A new key at login (against session fixation). A session not stored under any key (a visitor without
        one, or whose cookie names none: its key is dropped on reading) gets its fresh key when the response
        stores it, one INSERT then instead of an INSERT now and an UPDATE at the response; a stored session is
        moved to a new key as Django does."""
        data = self._session  # read first: reading drops a key that names no stored session
        if self.session_key is None:
            self._session_cache = data
            self.modified = True
            return
        super().cycle_key()


def renew_after() -> int:
    return int(getattr(settings, "SESSION_RENEW_AFTER", 60))


class SessionRenewalMiddleware:
    """Inside SessionMiddleware: marks a non-empty, unmodified session for saving when its stored expiry is
    more than `SESSION_RENEW_AFTER` seconds old (or unknown), so SessionMiddleware writes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.modified or session.is_empty():
            return response
        expires = getattr(session, "expire_date", None)
        if expires is None or expires - timezone.now() < dt.timedelta(
                seconds=settings.SESSION_COOKIE_AGE - renew_after()):
            session.modified = True
        return response
