"""Who is calling: the staff session (signed cookie, Flask-Login), CSRF (Flask-WTF) and API tokens.

- **Secret key** (``SECRET_KEY``, ``web.settings``): signs the session cookie and the CSRF tokens.
  When it is not set, a key generated once into ``<INSTANCE_PATH>/secret_key`` (mode 0600) is used:
  fine for ``make run`` and the tests. ``yizhan serve`` refuses to start without ``SECRET_KEY``
  unless told ``--instance-secret-key`` (that is what "production mode" means here: the site served
  by ``yizhan serve``, whose workers, and every server of the site, must share one key).
- **Session**: Flask's signed cookie ``yizhan_session`` (``HttpOnly``, ``SameSite=Lax``, ``Secure``
  whenever the request came over HTTPS, directly or through the ``PROXY_COUNT`` trusted proxies),
  lasting ``SESSION_LIFETIME_H`` after the last request. It holds the account's id and session
  version (``web.accounts.Account.get_id``): changing the password, role or counties, or disabling
  the account, ends every session of it.
- **CSRF**: Flask-WTF's ``CSRFProtect`` on every form: every POST, PUT, PATCH and DELETE outside
  ``/api`` needs the session's token (``csrf_token`` field; ``{{ csrf_token() }}`` in templates).
  The JSON API checks it where a cookie authenticates: :data:`STAFF` requires the token in
  ``X-CSRFToken`` from a request signed in by the session cookie; one authenticated by
  ``Authorization: Bearer <token>`` needs none (no browser sends it by itself), and the public API
  acts for nobody.
- **API access** (:data:`STAFF`, a ``web.requests.Access``): a bearer token, else the session with the
  CSRF header, else 401 with ``WWW-Authenticate: Bearer``. :func:`current_account` is who is
  calling (API or page), ``None`` for the public.
"""
from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta

from flask import Flask, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect, validate_csrf
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized
from wtforms import ValidationError as CSRFInvalid

from . import accounts, db
from .accounts import Account
from .errors import API_PREFIX
from .requests.answers import ERROR, Answer, error, security_scheme
from .requests.layer import Access
from .settings import SECRET_KEY_FILE

log = logging.getLogger(__name__)

SESSION_COOKIE = "yizhan_session"
CSRF_HEADER = "X-CSRFToken"
_ACCOUNT = "yizhan_account"


# ---- the secret key ------------------------------------------------------------------------------

def instance_secret_key(instance_path: str) -> str:
    """The key in ``<instance_path>/secret_key``, generated there (mode 0600) on first use.

    Several processes starting at once agree on one key: the file is created exclusively, and a
    process that finds it there reads the other's key (waiting briefly until it is written).
    """
    path = os.path.join(instance_path, SECRET_KEY_FILE)
    os.makedirs(instance_path, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    log.warning("generated a secret key in %s (set SECRET_KEY in production)", path)
    return key


def _read_key(path: str) -> str:
    import time

    for _ in range(50):
        with open(path, encoding="ascii") as fh:
            key = fh.read().strip()
        if key:
            return key
        time.sleep(0.02)  # another process created the file and is writing it
    raise RuntimeError(f"the secret key file {path} is empty; delete it to have a new key generated")


# ---- the session cookie ------------------------------------------------------------------------

class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(request.is_secure) or bool(app.config.get("SESSION_COOKIE_SECURE"))


def _load_user(user_id: str) -> Account | None:
    """Flask-Login's user loader: ``<id>.<session version>`` -> the account, if still valid."""
    ident, _, version = (user_id or "").partition(".")
    if not ident.isdigit() or not version.isdigit():
        return None
    return accounts.load_account(db.session(), int(ident), int(version))


def _to_sign_in():
    """Flask-Login's answer to a page that needs a signed-in account: the sign-in page, coming back here."""
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("signin.login_form", next=target))


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


# ---- who is calling --------------------------------------------------------------------------------

def current_account() -> Account | None:
    """The account of this request: the API's (token or session, once :data:`STAFF` checked it), else the
    signed-in session's; ``None`` for the public."""
    account = g.get(_ACCOUNT)
    if account is not None:
        return account
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def _unauthorized(message: str, code: str | None = None) -> Unauthorized:
    values = {"realm": "yizhan"}
    if code:
        values["error"] = code
    return Unauthorized(message, www_authenticate=WWWAuthenticate("bearer", values))


def _check_staff() -> None:
    """``STAFF``'s check: a valid bearer token, or a signed-in session with its CSRF token; else 401/400."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("the Authorization header must be `Bearer <token>`", "invalid_request")
        dbs = db.session()
        account = accounts.account_for_token(dbs, token.strip())
        dbs.commit()  # its last use
        if account is None:
            raise _unauthorized("the token is unknown, revoked or expired, or its account is disabled",
                                "invalid_token")
        setattr(g, _ACCOUNT, account)
        return
    if current_user and current_user.is_authenticated:
        try:
            validate_csrf(request.headers.get(CSRF_HEADER))
        except CSRFInvalid as exc:
            raise CSRFError(f"{exc}: a request signed in by the session cookie sends the page's CSRF token "
                            f"in the {CSRF_HEADER} header") from None
        setattr(g, _ACCOUNT, current_user._get_current_object())
        return
    raise _unauthorized("this needs a staff account: send `Authorization: Bearer <token>` (an admin makes one "
                        "with `yizhan token create NAME`), or the session cookie of a signed-in browser with "
                        f"its CSRF token in {CSRF_HEADER}")


BEARER = security_scheme("bearerToken", {
    "type": "http", "scheme": "bearer",
    "description": "An API token of a staff account (`yizhan token create NAME`); the account's role and "
                   "counties decide what it may change.",
})
SESSION = security_scheme("sessionCookie", {
    "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
    "description": "The session of a browser signed in at `/login` (together with `csrfToken`).",
})
CSRF = security_scheme("csrfToken", {
    "type": "apiKey", "in": "header", "name": CSRF_HEADER,
    "description": "The CSRF token of the signed-in page (`csrf_token` in its forms): required with the "
                   "session cookie, not with a bearer token.",
})
UNAUTHORIZED = Answer("No valid credentials: no `Authorization: Bearer <token>` and no signed-in session, or a "
                      "token that is unknown, revoked or expired.", ERROR, headers={
                          "WWW-Authenticate": {"description": "`Bearer realm=\"yizhan\"` (with `error` when a "
                                                              "token was refused)",
                                               "schema": {"type": "string"}, "required": True}})

#: the API's staff routes: who may call them (what each may change is ``web.permissions``'s to say)
STAFF = Access("staff", _check_staff, security=({BEARER: []}, {SESSION: [], CSRF: []}), answers={
    400: error("A parameter or the body is invalid (`error.parameter` names the member, `error.problems` "
               "lists them all), or a request signed in by the session cookie came without its CSRF token "
               "in `X-CSRFToken`."),
    401: UNAUTHORIZED,
    403: error("The account may not do this: a viewer changes nothing, an editor only the stations of their "
               "counties (before and after the change), deleting is for admins."),
})


# ---- installing it ---------------------------------------------------------------------------------

def register(app: Flask) -> None:
    """The secret key, the session cookie, CSRF protection and Flask-Login on ``app``.

    Call before registering the blueprints whose views need a signed-in account."""
    key = app.config.get("SECRET_KEY") or instance_secret_key(app.config["INSTANCE_PATH"])
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["SESSION_LIFETIME_H"]),
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as its session (an edit form may stay open for hours)
        WTF_CSRF_HEADERS=[CSRF_HEADER, "X-CSRF-Token"],
    )
    app.session_interface = SessionInterface()
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked by _protect_forms: everything but /api
    csrf = CSRFProtect(app)

    def _protect_forms() -> None:
        if request.method in app.config["WTF_CSRF_METHODS"] and not is_api_path(request.path):
            csrf.protect()  # CSRFError (400) without the session's token

    app.before_request(_protect_forms)
    manager = LoginManager(app)
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_to_sign_in)
    manager.session_protection = "basic"
    manager.login_message = None
