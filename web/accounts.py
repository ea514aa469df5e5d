"""Staff accounts: users, roles and counties, passwords, API tokens, sign-in checks. No Flask here.

The command line (``yizhan user``, ``yizhan token``) and the site (``web.auth``) call these with a
SQLAlchemy session of the accounts database (``web.db``); each function that changes something
flushes, the caller commits. What the rest of the site sees of a user is an :class:`Account`: a
frozen snapshot (name, role, counties) that the permission rules (``web.permissions``) read.

- Passwords: argon2id (argon2-cffi's defaults, RFC 9106's second recommended profile), rehashed at
  the next sign-in when the parameters change; at least :data:`PASSWORD_MIN_CHARS` characters.
- API tokens: ``yzt_`` and 43 random URL-safe characters (256 bits); only their SHA-256 is kept,
  so a token is shown once, when made. A slow hash adds nothing for a random 256-bit secret.
- Names: 1 to 64 characters without spaces, control characters or ``/``; unique regardless of case.

Errors are the domain's: :class:`~stations.errors.ValidationError` (a bad name, role, county or
password), :class:`~stations.errors.NotFound`, :class:`~stations.errors.Conflict` (a name in use).
"""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from stations.errors import Conflict, NotFound, Problem, ValidationError, quote_value

from .db.models import NAME_MAX_CHARS, ROLES, ApiToken, User, UserCounty, utcnow

PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 1024
TOKEN_PREFIX = "yzt_"
#: a token's last use is written at most this often (a read per API request, a write per interval)
TOKEN_USE_RESOLUTION = timedelta(minutes=5)

_hasher = PasswordHasher()
#: verified against when the name is unknown, so that the answer takes as long as for a known name
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Account:
    """A signed-in user as the site sees it: what the permission rules need, nothing from the database.

    Also Flask-Login's user object: ``get_id()`` carries the session version, so a session made
    before a password, role or county change (or before the account was disabled) is no longer valid.
    """

    id: int
    name: str
    role: str
    counties: frozenset[str]
    session_version: int = 1

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def account_of(user: User) -> Account:
    return Account(user.id, user.name, user.role, frozenset(user.county_codes), user.session_version)


# ---- checks ------------------------------------------------------------------------------------

def name_key(name: str) -> str:
    """What makes two names the same name: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_name(name: str) -> str:
    """The name, stripped; :class:`ValidationError` unless 1-64 characters without spaces, controls or ``/``."""
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > NAME_MAX_CHARS or any(
            c.isspace() or unicodedata.category(c).startswith("C") or c in "/\\" for c in text):
        raise ValidationError(Problem("user", "name", name, f"1 to {NAME_MAX_CHARS} characters without spaces, "
                                                            "control characters, / or \\"))
    return unicodedata.normalize("NFC", text)


def check_password(password: str) -> None:
    if not isinstance(password, str) or not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        length = len(password) if isinstance(password, str) else 0
        raise ValidationError(Problem("user", "password", f"({length} characters)",
                                      f"a password of {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"))


def check_role(role: str, counties: Iterable[str], known_counties: Iterable[str]) -> tuple[str, list[str]]:
    """(role, counties) checked together: an editor needs at least one county, an admin has them all
    (none may be named), a viewer may be given some (the staff pages then show those first)."""
    codes = list(dict.fromkeys(str(c).strip() for c in counties))
    known = set(known_counties)
    problems = []
    if role not in ROLES:
        problems.append(Problem("user", "role", role, f"one of {', '.join(ROLES)}"))
    unknown = [c for c in codes if c not in known]
    if unknown:
        problems.append(Problem("user", "county", ", ".join(unknown),
                                f"county codes (adcodes) of the site: {', '.join(sorted(known)) or 'none loaded'}"))
    if role == "editor" and not codes:
        problems.append(Problem("user", "county", None, "an editor needs at least one county (--county 370883)"))
    if role == "admin" and codes:
        problems.append(Problem("user", "county", ", ".join(codes), "none: an admin has every county"))
    if problems:
        raise ValidationError(problems)
    return role, codes


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


# ---- users -------------------------------------------------------------------------------------

def find_user(session: Session, name: str) -> User | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return session.scalar(sa.select(User).where(User.name_key == name_key(name.strip())))


def get_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise NotFound(f"no user named {quote_value(name)}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(sa.select(User).order_by(User.name_key)))


def add_user(session: Session, name: str, role: str, counties: Iterable[str], password: str,
             known_counties: Iterable[str]) -> User:
    """A new account; :class:`Conflict` if the name (in any case) is taken."""
    name = check_name(name)
    role, codes = check_role(role, counties, known_counties)
    password_hash = hash_password(password)
    if find_user(session, name) is not None:
        raise Conflict(f"a user named {quote_value(name)} exists already")
    user = User(name=name, name_key=name_key(name), password_hash=password_hash, role=role, disabled=False,
                session_version=1, counties=[UserCounty(county_code=c) for c in codes])
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    user = get_user(session, name)
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.flush()
    return user


def set_role(session: Session, name: str, role: str, counties: Iterable[str], known_counties: Iterable[str]) -> User:
    """Set the role and the counties together (the counties replace the old ones)."""
    user = get_user(session, name)
    role, codes = check_role(role, counties, known_counties)
    user.role = role
    user.counties = [UserCounty(county_code=c) for c in codes]
    user.session_version += 1
    session.flush()
    return user


def set_disabled(session: Session, name: str, disabled: bool = True) -> User:
    """Disable (or enable again) an account: a disabled one cannot sign in, its sessions and tokens stop
    working at once."""
    user = get_user(session, name)
    if user.disabled != disabled:
        user.disabled = disabled
        user.session_version += 1
        session.flush()
    return user


def load_account(session: Session, user_id: int, session_version: int) -> Account | None:
    """The account of a session (Flask-Login's user id), if that session is still valid."""
    user = session.get(User, user_id)
    if user is None or user.disabled or user.session_version != session_version:
        return None
    return account_of(user)


# ---- sign-in -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignInResult:
    outcome: str  # ok, bad_password, unknown_user, disabled (web.db.models.SIGN_IN_OUTCOMES)
    account: Account | None
    user_id: int | None

    @property
    def success(self) -> bool:
        return self.outcome == "ok"


def authenticate(session: Session, name: str, password: str) -> SignInResult:
    """Check a name and password (as long for an unknown name as for a known one); a hash made with
    older parameters is replaced by one with the current ones."""
    user = find_user(session, name)
    try:
        _hasher.verify(user.password_hash if user is not None else _DUMMY_HASH, password or "")
        verified = user is not None
    except (VerificationError, InvalidHashError):
        verified = False
    if user is None:
        return SignInResult("unknown_user", None, None)
    if not verified:
        return SignInResult("bad_password", None, user.id)
    if user.disabled:
        return SignInResult("disabled", None, user.id)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return SignInResult("ok", account_of(user), user.id)


# ---- API tokens --------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, expires_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token of user ``name``: (its row, the token itself, to be shown once)."""
    user = get_user(session, name)
    if user.disabled:
        raise Conflict(f"user {quote_value(user.name)} is disabled; enable it first")
    if expires_days is not None and (not isinstance(expires_days, int) or expires_days < 1):
        raise ValidationError(Problem("token", "expires_days", expires_days, "a whole number of days >= 1"))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(user=user, token_hash=token_hash(token), created_at=now,
                   expires_at=now + timedelta(days=expires_days) if expires_days else None)
    session.add(row)
    session.flush()
    return row, token


def list_tokens(session: Session, name: str | None = None) -> list[ApiToken]:
    query = sa.select(ApiToken).join(ApiToken.user).order_by(ApiToken.id)
    if name is not None:
        query = query.where(User.id == get_user(session, name).id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token with id {quote_value(token_id)}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def account_for_token(session: Session, token: str, now: datetime | None = None) -> Account | None:
    """The account a token belongs to, if the token is known, not revoked, not expired and its user not
    disabled; notes when it was last used (at most every few minutes; the caller commits)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = now or utcnow()
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    user = row.user
    if user.disabled:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
        row.last_used_at = now
        session.flush()
    return account_of(user)
