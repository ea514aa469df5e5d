"""Staff sign-in and sign-out: ``/login`` (GET the form, POST it), ``/logout`` (POST).

The form sends ``username``, ``password`` and ``csrf_token`` (checked by Flask-WTF before the view).
Failed sign-ins are counted per account (the name tried, case-folded) and, separately, per client
address, in Flask-Limiter's storage (``web.limits``' limiter: ``RATELIMIT_STORAGE_URI``) against
``LOGIN_FAILURE_LIMIT`` (5 per 15 minutes): past it every sign-in of that account or from that client
is refused with 429, ``Retry-After`` and the form saying when to try again, without the password
being checked. A success clears the account's count, not the client's.

Every attempt is logged, in the log and in the ``sign_ins`` table: when, the name tried, the outcome,
the client's network (an IPv4 address cut to its /24, an IPv6 address to its /48: enough to see
where an attack comes from, not who a staff member is). Never the password.
"""
from __future__ import annotations

import ipaddress
import logging
import math
import time
from typing import Annotated, Any

from flask import Blueprint, Response, current_app, redirect, render_template, session, url_for
from flask_login import login_user, logout_user
from pydantic import BeforeValidator, Field, WithJsonSchema

from . import accounts, db, templating
from .auth import current_account
from .db.models import NAME_MAX_CHARS, SignIn
from .limits import client_address
from .requests import QueryModel, pages
from .requests.fields import Allowed, Invalid, one, text
from .requests.queries import PageQuery

log = logging.getLogger(__name__)

bp = Blueprint("signin", __name__)


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return templating.page_globals()


@bp.after_request
def _finish(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return templating.finish_html(response)


# ---- parameters ----------------------------------------------------------------------------------

def _local_path(value: Any) -> str | None:
    """Where to go after signing in: a path of this site (``/manage?x=1``); anything else is ignored."""
    path = one(value, "a path of this site")
    if not path.startswith("/") or path.startswith(("//", "/\\")) or any(c in path for c in "\r\n\\"):
        return None
    return path[:2000]


def _password(value: Any) -> str:
    if isinstance(value, list):
        raise Invalid(f"is given {len(value)} times", "(hidden)", "once")
    return str(value)[:accounts.PASSWORD_MAX_CHARS + 1]  # never stripped: spaces are part of a password


Username = text(NAME_MAX_CHARS)
SignedOut = Annotated[str | None, BeforeValidator(lambda v: "1" if one(v, "1") == "1" else None),
                      WithJsonSchema({"type": "string", "enum": ["1"]}), Allowed("1 (the sign-in page says so)")]
NextPath = Annotated[str | None, BeforeValidator(_local_path), WithJsonSchema({"type": "string"}),
                     Allowed("a path of this site, e.g. /manage (anything else is ignored)")]
Password = Annotated[str, BeforeValidator(_password), WithJsonSchema({"type": "string", "format": "password"}),
                     Allowed("the account's password")]


class LoginQuery(PageQuery):
    next: NextPath = Field(None, description="where to go after signing in")
    signed_out: SignedOut = None


class LoginForm(QueryModel):
    username: Username = ""
    password: Password = ""
    next: NextPath = None


# ---- failed sign-ins -----------------------------------------------------------------------------

def _failure_limit():
    from limits import parse

    return parse(current_app.config["LOGIN_FAILURE_LIMIT"])


def _limiter():
    limiter = current_app.extensions.get("yizhan.limiter")
    return limiter if limiter is not None and limiter.enabled else None


def _keys(name: str, client: str) -> list[tuple[str, str]]:
    return [("sign-in-account", accounts.name_key(name or "")), ("sign-in-client", client)]


def retry_after_s(name: str, client: str) -> int | None:
    """Seconds until this account and client may try again, or ``None`` if they may now."""
    limiter = _limiter()
    if limiter is None:
        return None
    item, strategy = _failure_limit(), limiter.limiter
    waits = []
    for key in _keys(name, client):
        if not strategy.test(item, *key):
            reset_at = strategy.get_window_stats(item, *key).reset_time
            waits.append(max(1, math.ceil(reset_at - time.time())))
    return max(waits) if waits else None


def count_failure(name: str, client: str) -> None:
    limiter = _limiter()
    if limiter is not None:
        item = _failure_limit()
        for key in _keys(name, client):
            limiter.limiter.hit(item, *key)


def clear_account_failures(name: str) -> None:
    limiter = _limiter()
    if limiter is not None:
        try:
            limiter.limiter.clear(_failure_limit(), *_keys(name, "")[0])
        except NotImplementedError:  # a storage that cannot reset: the count runs out with its window
            pass


def client_network(address: str) -> str:
    """The client's network as logged: IPv4 /24, IPv6 /48 (``203.0.113.0/24``); ``unknown`` otherwise."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _log_attempt(name: str, outcome: str, user_id: int | None, client: str) -> None:
    network = client_network(client)
    log.info("sign-in %s: %r from %s", outcome, name[:NAME_MAX_CHARS], network)
    dbs = db.session()
    dbs.add(SignIn(username=name[:NAME_MAX_CHARS], user_id=user_id, success=outcome == "ok", outcome=outcome,
                   client=network))
    dbs.commit()


# ---- views ----------------------------------------------------------------------------------------

def _form(status: int = 200, *, next_path: str | None = None, username: str = "", error: str | None = None,
          error_values: dict[str, Any] | None = None, signed_out: bool = False) -> Response:
    html = render_template("login.html", next_path=next_path, username=username, error=error,
                           error_values=error_values or {}, signed_out=signed_out, account=current_account())
    return Response(html, status=status, mimetype="text/html")


@bp.get("/login")
@pages.route(query=LoginQuery)
def login_form(query: LoginQuery) -> Response:
    """The sign-in form (zh-CN first, ``?lang=en``)."""
    return _form(next_path=query.next, signed_out=bool(query.signed_out))


@bp.post("/login")
@pages.route(query=PageQuery, form=LoginForm)
def login(query: PageQuery, form: LoginForm) -> Response:
    """Check the name and password: signed in and on to ``next`` (default ``/manage``), or the form again."""
    name, client = form.username, client_address()
    wait_s = retry_after_s(name, client)
    if wait_s is not None:
        user = accounts.find_user(db.session(), name)
        _log_attempt(name, "limited", user.id if user is not None else None, client)
        response = _form(429, next_path=form.next, username=name, error="auth.too_many",
                         error_values={"minutes": max(1, math.ceil(wait_s / 60))})
        response.headers["Retry-After"] = str(wait_s)
        return response
    result = accounts.authenticate(db.session(), name, form.password)
    _log_attempt(name, result.outcome, result.user_id, client)  # commits a rehashed password too
    if not result.success:
        count_failure(name, client)
        return _form(next_path=form.next, username=name, error="auth.failed")
    clear_account_failures(name)
    session.clear()  # nothing of an earlier session (and no CSRF token of it) carries over
    login_user(result.account)
    session.permanent = True  # SESSION_LIFETIME_H
    return redirect(form.next or url_for("manage.home", lang=query.lang))


@bp.post("/logout")
@pages.route(query=PageQuery)
def logout(query: PageQuery) -> Response:
    """Sign out (a form with the CSRF token); back to the sign-in page."""
    logout_user()
    session.clear()
    return redirect(url_for("signin.login_form", signed_out=1, lang=query.lang))
