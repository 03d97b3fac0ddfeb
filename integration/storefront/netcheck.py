"""Where a webhook may be sent: public addresses only, unless private networks are allowed.

A storefront's webhook URL is set by staff, but the platform then POSTs to it and keeps the start
of the answer for the admin: pointed at ``http://10.0.0.12/`` or the cloud's metadata address it
would reach services that are nobody's business outside. ``WEBHOOK_ALLOW_PRIVATE_NETWORKS``
(default: ``DEBUG``) allows loopback and private networks, for a developer's receiver.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_NETWORKS", settings.DEBUG))


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone index is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def host_refusal(host: str, *, resolve: bool, port: int = 443) -> str:
    """Why ``host`` may not receive webhooks ("" if it may).

    Without ``resolve``, only what the name says is judged (an IP literal, ``localhost``); with
    it, every address the name resolves to now must be public. A name that does not resolve is
    not refused here: the send fails and is retried like any connection error.
    """
    if private_networks_allowed():
        return ""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is this machine"
    try:
        if _is_private(name):
            return f"{host} is a private, loopback or reserved address"
        return ""
    except ValueError:  # a name, not an address
        pass
    if not resolve:
        return ""
    try:
        infos = socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)
    except OSError:
        return ""
    private = sorted({str(info[4][0]) for info in infos if _is_private(str(info[4][0]))})
    if private:
        return f"{host} resolves to a private, loopback or reserved address ({', '.join(private)})"
    return ""
