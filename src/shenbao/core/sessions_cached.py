"""Sessions read from the cache (Redis) and written through to the database (Django's cached_db), renewed at
most once a minute like the database store (core/sessions.py).

The cached copy carries the expiry written with it (`_sb_expires`, taken out on reading), so the renewal
middleware knows it without reading the table: a busy clerk's requests neither read nor write the session
table, one write a minute renews the 30 idle minutes."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.sessions.backends import cached_db

from shenbao.core import sessions

EXPIRES = "_sb_expires"
log = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore, sessions.SessionStore):
    def _cache_with_expiry(self, data: dict) -> None:
        if self.expire_date is None:
            return
        try:
            self._cache.set(self.cache_key, {**data, EXPIRES: self.expire_date.timestamp()},
                            self.get_expiry_age(expiry=self.expire_date))
        except Exception:  # a cache that is down only costs the next request a database read
            log.warning("session not cached with its expiry", exc_info=True)

    def load(self):
        known = self.expire_date
        data = super().load()  # the cache's copy, else the row (whose expiry the store then knows)
        stamp = data.pop(EXPIRES, None) if isinstance(data, dict) else None
        if stamp is not None:
            self.expire_date = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
        elif self.expire_date is not None and self.expire_date != known:
            self._cache_with_expiry(data)  # read from the table: cache it with its expiry
        return data

    def save(self, must_create=False):
        super().save(must_create)
        self._cache_with_expiry(self._session)
