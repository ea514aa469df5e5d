"""Answer only for trusted hosts: a request whose ``Host`` is not one of them gets a 400.

Absolute links (the share link and QR code of a station page) are built from ``PUBLIC_URL`` or,
without it, from the request's host: answering for any ``Host`` would let a forged header put
another site into a QR code (and into a cache in front of the app).

Setting ``TRUSTED_HOSTS`` (env ``YIZHAN_TRUSTED_HOSTS``): a list, or a space/comma-separated string,
of host names or IP addresses; ports are ignored; ``.example.cn`` also trusts every subdomain.
Default: ``localhost``, ``127.0.0.1`` and ``[::1]`` (so ``make run`` works without any setting).
The host of ``PUBLIC_URL`` is always trusted.

The check is the app's own, not Flask's ``TRUSTED_HOSTS`` mechanism: werkzeug 3.1 compares the
part of a trusted entry before its first ``:``, so it can never match an IPv6 address such as
``[::1]``. Flask's key is therefore set to ``None`` after start-up and the checked list kept in
``app.extensions["yizhan.trusted_hosts"]``; the check runs before every view, so the answer is the
site's own error page (JSON under ``/api``) with the security headers.
"""
from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import SecurityError

DEFAULT_TRUSTED_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# A host name (letters, digits, dots, hyphens; IDNA-encoded), an IPv4 address or a bracketed IPv6
# address, with an optional port.
_HOST_RE = re.compile(r"(?P<host>[a-z0-9.-]+|\[[a-f0-9:.]+\])(?::(?P<port>[0-9]{1,5}))?", re.IGNORECASE)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    return [str(v) for v in value]


def _normalise(entry: str) -> str:
    """``Example.CN:443`` -> ``example.cn``; ``::1`` -> ``[::1]``; ``.a.cn`` keeps its dot."""
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
    """The hosts the app answers for: ``TRUSTED_HOSTS`` (default the loopback names) + ``PUBLIC_URL``'s."""
    raw = config.get("TRUSTED_HOSTS")
    entries = list(DEFAULT_TRUSTED_HOSTS) if raw is None else _as_list(raw)
    public = (config.get("PUBLIC_URL") or "").strip()
    if public:
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"PUBLIC_URL={public[:100]!r} is not allowed; allowed: an http(s) URL such as "
                             "https://yizhan.example.cn")
        entries.append(parts.netloc.rpartition("@")[2])
    out = []
    for entry in entries:
        try:
            out.append(_normalise(entry))
        except ValueError:
            raise ValueError(f"TRUSTED_HOSTS entry {entry[:100]!r} is not allowed; allowed: host names or "
                             "IP addresses (ports are ignored), .example.cn for every subdomain") from None
    if not out:
        raise ValueError("TRUSTED_HOSTS is empty and PUBLIC_URL is not set: no request could be answered; "
                         "allowed: a list of host names, e.g. yizhan.example.cn")
    return list(dict.fromkeys(out))


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


def register(app: Flask) -> None:
    """Check the setting at start-up and install the check (first of the request hooks)."""
    app.extensions["yizhan.trusted_hosts"] = trusted_hosts(app.config)
    app.config["TRUSTED_HOSTS"] = None  # checked here instead (see the module docstring)
    app.before_request_funcs.setdefault(None, []).insert(0, check_host)
