"""The client's address as the platform trusts it.

Behind a reverse proxy every request comes from the proxy, so the client's address is taken from the proxy's
header, but only when the request really comes from a configured proxy (`SHENBAO_TRUSTED_PROXY`, a comma
separated list of addresses): anybody else could send the header and choose their own address. The header is
`SHENBAO_PROXY_IP_HEADER` (default `X-Forwarded-For`); of a list, the right-most address that is not itself a
trusted proxy is the client (the left-most entries are whatever the client wrote).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    if request is None:
        return None
    remote = _valid(request.META.get("REMOTE_ADDR") or "")
    proxies = set(getattr(settings, "SHENBAO_TRUSTED_PROXIES", ()))
    if not remote or remote not in proxies:
        return remote
    header = getattr(settings, "SHENBAO_PROXY_IP_HEADER", "HTTP_X_FORWARDED_FOR")
    hops = [h for h in (request.META.get(header) or "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _valid(hop)
        if address is None:
            return remote
        if address not in proxies:
            return address
    return remote


# --- bad input: a 400 with a message, never a 500 --------------------------------------------------------

MAX_ID = 2**63 - 1  # the largest BigAutoField value; longer digit strings are not ids


class BadInput(Exception):
    """What the client sent cannot be used (a non-numeric id, a missing choice). Raised from a view, it is
    answered by `BadInputMiddleware` with HTTP 400 and `message` (already in the user's language)."""

    def __init__(self, message: str):
        self.message = str(message)
        super().__init__(self.message)


def parse_id(value, *, what: str) -> int:
    """A database id typed by nobody: from a form field, a query string or JSON. Anything but a positive
    decimal number in range (letters, signs, exponents, full-width digits, lists) raises BadInput with
    "`what` 无效" in the user's language."""
    from django.utils.translation import gettext as _

    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if not text or len(text) > 19 or not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise BadInput(_("%(what)s无效：请从页面上的列表中选择，不要手工修改") % {"what": what})
    return int(text)


def posted_id(data, name: str, *, what: str) -> int:
    """`parse_id` of `data[name]` (request.POST or request.GET); a missing field is bad input too."""
    return parse_id(data.get(name), what=what)
