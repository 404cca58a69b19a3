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
