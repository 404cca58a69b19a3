"""A fixed-window counter in the cache (Redis in production: shared by every worker): how often one key
(a client address, a user) may do something, e.g. post the registration form or look up units.

    if not ratelimit.hit("register", ip, limit=20, window=3600): refuse with 429
"""

from __future__ import annotations

from django.core.cache import cache


def hit(scope: str, key: str | None, *, limit: int, window: int) -> bool:
    """Count one more use of `scope` by `key`; True while within `limit` per `window` seconds."""
    cache_key = f"shenbao:rl:{scope}:{key or '-'}"
    if cache.add(cache_key, 1, timeout=window):
        return limit >= 1
    try:
        n = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        n = 1
    return n <= limit
