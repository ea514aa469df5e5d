"""Answer only for trusted hosts (a request whose ``Host`` is not one of them gets a 400); trust proxies.

Absolute links (the share link and QR code of a station page) are built from ``PUBLIC_URL`` or,
without it, from the request's host: answering for any ``Host`` would let a forged header put
another site into a QR code (and into a cache in front of the app).

Setting ``TRUSTED_HOSTS`` (declared in ``web.settings``, which checks every entry with
:func:`normalise_host`): host names or IP addresses; ports are ignored; ``.example.cn`` also trusts
every subdomain. Default: ``localhost``, ``127.0.0.1`` and ``[::1]`` (so ``make run`` works without
any setting). The host of ``PUBLIC_URL`` is always trusted.

The check is the app's own, not Flask's ``TRUSTED_HOSTS`` mechanism: werkzeug 3.1 compares the
part of a trusted entry before its first ``:``, so it can never match an IPv6 address such as
``[::1]``. Flask's key is therefore set to ``None`` after start-up and the checked list kept in
``app.extensions["yizhan.trusted_hosts"]``; the check runs before every view, so the answer is the
site's own error page (JSON under ``/api``) with the security headers.
"""
from __future__ import annotations

import re
from typing import Iterable
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

# A host name (letters, digits, dots, hyphens; IDNA-encoded), an IPv4 address or a bracketed IPv6
# address, with an optional port.
_HOST_RE = re.compile(r"(?P<host>[a-z0-9.-]+|\[[a-f0-9:.]+\])(?::(?P<port>[0-9]{1,5}))?", re.IGNORECASE)


def normalise_host(entry: str) -> str:
    """``Example.CN:443`` -> ``example.cn``; ``::1`` -> ``[::1]``; ``.a.cn`` keeps its dot; ValueError if no host."""
    text = entry.strip()
    dot = text.startswith(".")
    if dot:
        text = text[1:]
    if text.count(":") >= 2 and not text.startswith("["):  # a bare IPv6 address
        text = f"[{text}]"
    try:
        text = text.encode("idna").decode("ascii") if not text.startswith("[") else text
    except UnicodeError:
        raise ValueError(entry) from None
    m = _HOST_RE.fullmatch(text)
    if m is None or not m.group("host").strip(".") or ".." in m.group("host"):
        raise ValueError(entry)
    return ("." if dot else "") + m.group("host").lower()


def trusted_hosts(config) -> list[str]:
    """The hosts the app answers for: ``TRUSTED_HOSTS`` (checked by ``web.settings``) + ``PUBLIC_URL``'s."""
    entries = list(config["TRUSTED_HOSTS"])
    public = config.get("PUBLIC_URL")
    if public:
        entries.append(normalise_host(urlsplit(public).netloc.rpartition("@")[2]))
    return list(dict.fromkeys(entries))


def host_is_trusted(host: str, trusted: Iterable[str]) -> bool:
    """Whether a ``Host`` value (``name[:port]``) names one of ``trusted`` (normalised entries)."""
    m = _HOST_RE.fullmatch(host or "")
    if m is None:
        return False
    name = m.group("host").lower().rstrip(".") if not m.group("host").startswith("[") else m.group("host").lower()
    for entry in trusted:
        if entry.startswith("."):
            if name == entry[1:] or name.endswith(entry):
                return True
        elif name == entry:
            return True
    return False


def request_host(environ) -> str:
    """The host the request names: its ``Host`` header, else the server's address (HTTP/1.0)."""
    host = environ.get("HTTP_HOST")
    if host is not None:
        return host
    server, port = environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")
    if ":" in server and not server.startswith("["):
        server = f"[{server}]"
    return f"{server}:{port}" if port else server


def check_host() -> None:
    """400 unless the request's host is trusted (runs before every view, before any link is built)."""
    host = request_host(request.environ)
    if not host_is_trusted(host, current_app.extensions["yizhan.trusted_hosts"]):
        raise SecurityError(f"this site does not answer for the host {host[:100]!r}; "
                            "allowed: the hosts in the TRUSTED_HOSTS setting")


def trust_proxies(app: Flask) -> None:
    """Behind ``PROXY_COUNT`` reverse proxies, take the client's address and scheme from their headers.

    werkzeug's ProxyFix takes ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from that many hops, so
    ``request.remote_addr`` is the client's (the rate limits count per client, not per proxy) and
    ``request.is_secure`` says whether the client used HTTPS (HSTS, ``https://`` share links). The
    headers of a request that passed fewer proxies are ignored. ``X-Forwarded-Host``, ``-Port`` and
    ``-Prefix`` are never trusted: the proxy passes ``Host`` itself, checked against ``TRUSTED_HOSTS``.
    This is the only place that reads forwarded headers (``yizhan serve`` turns gunicorn's own off).
    """
    count = app.config["PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=0, x_port=0,  # type: ignore
                                x_prefix=0)


def register(app: Flask) -> None:
    """Install the host check (first of the request hooks) and, with ``PROXY_COUNT``, ProxyFix."""
    trust_proxies(app)
    app.extensions["yizhan.trusted_hosts"] = trusted_hosts(app.config)
    app.config["TRUSTED_HOSTS"] = None  # checked here instead (see the module docstring)
    app.before_request_funcs.setdefault(None, []).insert(0, check_host)
