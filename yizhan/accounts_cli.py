"""``yizhan user``, ``yizhan token`` and ``yizhan db``: staff accounts, API tokens, database migrations.

They work on the accounts database of the site's settings (``DATABASE_URL``, env
``YIZHAN_DATABASE_URL``; default ``<INSTANCE_PATH>/yizhan.sqlite3``) through ``web.accounts``, without
building the site. ``yizhan db upgrade`` brings it (and a PostGIS station store) to the current
migration; the other commands stop, saying so, while it is not there. Passwords are read from
standard input with ``--password-stdin`` (one line), else asked for without echo; never printed.
A token is printed once, alone on standard output; what it is goes to standard error.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

import click

from .cli import fail, resolve_settings

ROLE_CHOICE = click.Choice(["admin", "editor", "viewer"])


def _is_database_url(value: str) -> bool:
    from stations.store.factory import DATABASE_SCHEMES

    scheme, sep, _ = value.partition("://")
    return bool(sep) and scheme.lower() in DATABASE_SCHEMES


@contextmanager
def _accounts(need_counties: bool = False) -> Iterator[tuple]:
    """(session, known county codes) of the settings' accounts database; committed when the block ends."""
    import sqlalchemy as sa

    from stations.errors import YizhanError
    from web.db import migrate
    from web.db.engine import Database, redacted

    resolved = resolve_settings({}, prepare=False)
    url = resolved["DATABASE_URL"]
    try:
        current, head = migrate.current_revision(url), migrate.head_revision()
    except sa.exc.SQLAlchemyError as exc:
        fail(RuntimeError(f"the accounts database {redacted(url)} cannot be used: {str(exc).splitlines()[0]}"))
    if current != head:
        fail(RuntimeError(f"the accounts database {redacted(url)} is at migration {current or '(none)'}, this "
                          f"version needs {head}: run `yizhan db upgrade` first"))
    codes: list[str] = []
    if need_counties:
        from stations.counties import Counties
        codes = list(Counties.load(resolved["COUNTIES_PATH"]).codes)
    database = Database(url)
    try:
        with database.transaction() as session:
            yield session, codes
    except YizhanError as exc:
        fail(exc)
    except sa.exc.SQLAlchemyError as exc:
        fail(RuntimeError(f"the accounts database {redacted(url)}: {str(exc).splitlines()[0]}"))
    finally:
        database.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        text = sys.stdin.read()
        text = text[:-1] if text.endswith("\n") else text
        text = text[:-1] if text.endswith("\r") else text
        if "\n" in text:
            fail(RuntimeError("--password-stdin reads one line; got several"))
        return text
    if not sys.stdin.isatty():
        fail(RuntimeError("no terminal to ask for the password: pipe it in with --password-stdin"))
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _describe(user) -> str:
    counties = ", ".join(user.county_codes)
    state = " (disabled)" if user.disabled else ""
    return f"{user.name}: {user.role}{' of ' + counties if counties else ''}{state}"


# ---- yizhan user -----------------------------------------------------------------------------------

@click.group("user")
def user_group() -> None:
    """Staff accounts: admin (every county, accounts), editor (their counties), viewer (reads only)."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--county", "counties", multiple=True, metavar="ADCODE",
              help="A county the account edits (repeatable; an editor needs one at least), e.g. 370883.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
def user_add(name, role, counties, password_stdin):
    """Add an account NAME (the first one: `yizhan user add admin --role admin --password-stdin`)."""
    from web import accounts

    password = _read_password(password_stdin)
    with _accounts(need_counties=True) as (session, known):
        user = accounts.add_user(session, name, role, counties, password, known)
        text = _describe(user)
    click.echo(f"added {text}")


@user_group.command("list")
def user_list():
    """Every account: name, role, counties, whether it is disabled."""
    from web import accounts

    with _accounts() as (session, _):
        users = accounts.list_users(session)
        rows = [(u.name, u.role, " ".join(u.county_codes) or "-", "disabled" if u.disabled else "active",
                 u.created_at.date().isoformat()) for u in users]
    if not rows:
        click.echo("no accounts yet: yizhan user add NAME --role admin --password-stdin")
        return
    widths = [max(len(str(r[i])) for r in rows + [("name", "role", "counties", "state", "created")])
              for i in range(5)]
    for row in [("name", "role", "counties", "state", "created"), *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


@user_group.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
def user_disable(name, enable):
    """Disable account NAME: it cannot sign in, its sessions and tokens stop working at once."""
    from web import accounts

    with _accounts() as (session, _):
        text = _describe(accounts.set_disabled(session, name, not enable))
    click.echo(("enabled " if enable else "disabled ") + text)


@user_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
def user_set_password(name, password_stdin):
    """Set the password of account NAME (its sessions end)."""
    from web import accounts

    password = _read_password(password_stdin)
    with _accounts() as (session, _):
        user = accounts.set_password(session, name, password)
        text = user.name
    click.echo(f"password set for {text}")


@user_group.command("set-role")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--county", "counties", multiple=True, metavar="ADCODE",
              help="The account's counties, replacing the old ones (repeatable).")
def user_set_role(name, role, counties):
    """Set the role and counties of account NAME (its sessions end)."""
    from web import accounts

    with _accounts(need_counties=True) as (session, known):
        text = _describe(accounts.set_role(session, name, role, counties, known))
    click.echo(f"set {text}")


# ---- yizhan token ----------------------------------------------------------------------------------

@click.group("token")
def token_group() -> None:
    """API tokens (`Authorization: Bearer <token>`): they act with their account's role and counties."""


@token_group.command("create")
@click.argument("name")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None,
              help="Valid for this many days (default: until revoked).")
def token_create(name, expires_days):
    """Make a token for account NAME; print it once (only its hash is kept)."""
    from web import accounts

    with _accounts() as (session, _):
        row, token = accounts.create_token(session, name, expires_days)
        about = (f"token {row.id} for {_describe(row.user)}; "
                 + (f"expires {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else "valid until revoked"))
    click.echo(token)
    click.echo(f"{about}. It is shown this once: keep it secret (yizhan token revoke {row.id} ends it).", err=True)


@token_group.command("list")
@click.argument("name", required=False)
def token_list(name):
    """The tokens (of account NAME): id, account, made, expires, revoked, last used. Never the tokens."""
    from web import accounts

    def when(value):
        return f"{value:%Y-%m-%d %H:%M}" if value else "-"

    with _accounts() as (session, _):
        rows = [(str(t.id), t.user.name, when(t.created_at), when(t.expires_at), when(t.revoked_at),
                 when(t.last_used_at)) for t in accounts.list_tokens(session, name)]
    header = ("id", "account", "made (UTC)", "expires", "revoked", "last used")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id):
    """Revoke token TOKEN_ID (see `yizhan token list`): it stops working at once."""
    from web import accounts

    with _accounts() as (session, _):
        row = accounts.revoke_token(session, token_id)
        text = f"revoked token {row.id} of {row.user.name}"
    click.echo(text)


# ---- yizhan db ---------------------------------------------------------------------------------

@click.group("db")
def db_group() -> None:
    """The databases: their migrations (upgrade), and the whole station store in and out (load, dump)."""


@db_group.command("upgrade")
def db_upgrade():
    """Bring the accounts database (DATABASE_URL) to the current migration; and the station store's
    database too when the store is PostGIS."""
    import sqlalchemy as sa

    from stations.errors import YizhanError
    from web.db import migrate
    from web.db.engine import redacted

    resolved = resolve_settings({}, prepare=False)
    url = resolved["DATABASE_URL"]
    try:
        revision = migrate.upgrade(url)
    except sa.exc.SQLAlchemyError as exc:
        fail(RuntimeError(f"the accounts database {redacted(url)} cannot be upgraded: {str(exc).splitlines()[0]}"))
    click.echo(f"accounts database {redacted(url)}: at migration {revision}")
    store = resolved.values.get("STORE_URL") or resolved["STATIONS_PATH"]  # STORE_URL once the settings have it
    if isinstance(store, str) and _is_database_url(store):
        try:
            from stations.store import postgis
        except ImportError as exc:
            fail(RuntimeError(f"the station store is a database but its backend cannot be loaded ({exc}); "
                              "pip install -e '.[postgis]'"))
        try:
            postgis.upgrade(store)
        except YizhanError as exc:
            fail(exc)
        click.echo(f"station store {redacted(store)}: at migration {postgis.SCHEMA_REVISION}")


from . import db_cli  # noqa: E402,F401  (adds `yizhan db load` and `yizhan db dump` to db_group)
