"""The accounts database: migrations (their own history), the tables, and the account operations,
on SQLite and on PostgreSQL (``accounts_db``: skipped, saying why, where PostgreSQL is out of reach)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from accounts_db import database_url, migrated_url  # noqa: F401  (fixtures)
from stations.errors import Conflict, NotFound, ValidationError
from web import accounts
from web.db import migrate
from web.db.engine import Database
from web.db.models import Base, Report, SignIn

COUNTIES = ["370811", "370812", "370883"]
PASSWORD = "correct horse battery"


@pytest.fixture
def database(migrated_url):
    db = Database(migrated_url)
    yield db
    db.dispose()


def test_upgrade_creates_the_tables_with_their_own_version_table_and_is_idempotent(database_url):
    assert migrate.current_revision(database_url) is None
    assert migrate.upgrade(database_url) == migrate.head_revision()
    assert migrate.upgrade(database_url) == migrate.head_revision()  # nothing to do the second time
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            names = set(sa.inspect(connection).get_table_names())
            assert {"users", "user_counties", "api_tokens", "sign_ins", "reports", migrate.VERSION_TABLE} <= names
            assert "alembic_version" not in names and "yizhan_store_version" not in names
            version = connection.execute(sa.text(f"SELECT version_num FROM {migrate.VERSION_TABLE}")).scalar()
            assert version == migrate.head_revision()
    finally:
        engine.dispose()


def test_the_migrations_create_exactly_the_models_tables(migrated_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(migrated_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": migrate.VERSION_TABLE,
                                                                   "compare_type": True})
            diff = [d for d in compare_metadata(context, Base.metadata)
                    if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == migrate.VERSION_TABLE)]
    finally:
        engine.dispose()
    assert diff == []


def test_users_names_are_unique_regardless_of_case_and_checked(database):
    with database.transaction() as s:
        accounts.add_user(s, "Zhang", "editor", ["370883"], PASSWORD, COUNTIES)
    with pytest.raises(Conflict), database.transaction() as s:
        accounts.add_user(s, "zhang", "viewer", [], PASSWORD, COUNTIES)
    for bad in ("", "two words", "a/b", "x" * 65):
        with pytest.raises(ValidationError), database.transaction() as s:
            accounts.add_user(s, bad, "viewer", [], PASSWORD, COUNTIES)
    with database.transaction() as s:
        assert accounts.get_user(s, "ZHANG").name == "Zhang"
        with pytest.raises(NotFound):
            accounts.get_user(s, "li")


@pytest.mark.parametrize("role, counties, field", [
    ("editor", [], "county"),                 # an editor needs a county
    ("editor", ["999999"], "county"),         # a county of the site
    ("admin", ["370883"], "county"),          # an admin has them all
    ("owner", [], "role"),
])
def test_roles_and_counties_are_checked_together(database, role, counties, field):
    with pytest.raises(ValidationError) as caught, database.transaction() as s:
        accounts.add_user(s, "li", role, counties, PASSWORD, COUNTIES)
    assert field in [p.field for p in caught.value.problems]


def test_a_short_password_is_refused_and_never_quoted(database):
    with pytest.raises(ValidationError) as caught, database.transaction() as s:
        accounts.add_user(s, "li", "viewer", [], "short1", COUNTIES)
    assert "short1" not in str(caught.value)


def test_passwords_are_argon2_hashes_checked_in_constant_shape_and_rehashed(database):
    from argon2 import PasswordHasher

    with database.transaction() as s:
        user = accounts.add_user(s, "wang", "viewer", [], PASSWORD, COUNTIES)
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)  # old
    with database.transaction() as s:
        assert accounts.authenticate(s, "wang", "wrong password!").outcome == "bad_password"
        assert accounts.authenticate(s, "nobody", PASSWORD).outcome == "unknown_user"
        ok = accounts.authenticate(s, "WANG", PASSWORD)
        assert ok.success and ok.account.name == "wang" and ok.account.role == "viewer"
    with database.transaction() as s:
        assert "m=8," not in accounts.get_user(s, "wang").password_hash  # rehashed with today's parameters


def test_disabling_or_changing_an_account_ends_its_sessions(database):
    with database.transaction() as s:
        user = accounts.add_user(s, "zhao", "editor", ["370811"], PASSWORD, COUNTIES)
        first = accounts.account_of(user)
    with database.transaction() as s:
        assert accounts.load_account(s, first.id, first.session_version) == first
        accounts.set_role(s, "zhao", "editor", ["370811", "370812"], COUNTIES)
    with database.transaction() as s:
        assert accounts.load_account(s, first.id, first.session_version) is None  # the old session
        now = accounts.account_of(accounts.get_user(s, "zhao"))
        assert now.counties == {"370811", "370812"}
        accounts.set_disabled(s, "zhao")
    with database.transaction() as s:
        assert accounts.load_account(s, now.id, now.session_version) is None
        assert accounts.load_account(s, now.id, now.session_version + 1) is None  # disabled
        assert accounts.authenticate(s, "zhao", PASSWORD).outcome == "disabled"


def test_tokens_are_kept_as_hashes_and_stop_when_revoked_expired_or_disabled(database):
    with database.transaction() as s:
        accounts.add_user(s, "sun", "editor", ["370883"], PASSWORD, COUNTIES)
        row, token = accounts.create_token(s, "sun", expires_days=2)
        token_id = row.id
        assert token.startswith("yzt_") and len(token) >= 40 and row.token_hash != token
    with database.transaction() as s:
        stored = s.execute(sa.text("SELECT token_hash FROM api_tokens")).scalars().all()
        assert token not in stored and accounts.token_hash(token) in stored
        account = accounts.account_for_token(s, token)
        assert account.name == "sun" and account.counties == {"370883"}
        assert accounts.account_for_token(s, token + "x") is None
        assert accounts.account_for_token(s, token, now=datetime.now(timezone.utc) + timedelta(days=3)) is None
    with database.transaction() as s:
        accounts.set_disabled(s, "sun")
    with database.transaction() as s:
        assert accounts.account_for_token(s, token) is None
        accounts.set_disabled(s, "sun", False)
    with database.transaction() as s:
        assert accounts.account_for_token(s, token) is not None
        accounts.revoke_token(s, token_id)
    with database.transaction() as s:
        assert accounts.account_for_token(s, token) is None


def test_the_reports_table_holds_a_report_and_refuses_bad_ones(database):
    with database.transaction() as s:
        s.add(Report(station_id="JN-RS-0001", kind="no_water", note="没水了 <script>", lon=116.58, lat=35.41))
        s.add(Report(station_id="JN-RS-0002", kind="closed"))
    with database.transaction() as s:
        reports = s.scalars(sa.select(Report).order_by(Report.id)).all()
        assert [r.status for r in reports] == ["open", "open"]
        assert reports[0].created_at.tzinfo is not None and reports[1].lon is None
    bad = [dict(kind="broken"), dict(kind="other", note="x" * 501), dict(kind="other", lon=116.5),
           dict(kind="other", lon=200.0, lat=35.0), dict(kind="other", status="gone")]
    for values in bad:  # a constraint (or, on PostgreSQL, the column's length) refuses each
        with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)), database.transaction() as s:
            s.add(Report(station_id="JN-RS-0001", **values))


def test_times_are_stored_as_utc_and_read_back_aware(database):
    when = datetime(2026, 11, 27, 8, 30, tzinfo=timezone(timedelta(hours=8)))
    with database.transaction() as s:
        s.add(SignIn(at=when, username="x", success=False, outcome="unknown_user", client="203.0.113.0/24"))
    with database.transaction() as s:
        stored = s.scalar(sa.select(SignIn.at))
    assert stored == when and stored.utcoffset() == timedelta(0)
