"""The accounts database's tables: users and their counties, API tokens, the sign-in log, workers' reports.

Everything that is not a station lives here (the stations are the station store's). Times are
stored as UTC and read back as aware UTC datetimes (:class:`UTCDateTime`), on SQLite as on
PostgreSQL. Vocabularies (roles, report kinds and statuses) are checked by the database too (CHECK
constraints, portable, rather than native enum types). The migrations in ``migrations/versions``
create exactly these tables (``tests/test_db.py`` compares them).
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("admin", "editor", "viewer")
REPORT_KINDS = ("closed", "no_water", "moved", "dirty", "other")
REPORT_STATUSES = ("open", "accepted", "dismissed")
#: longest user name, sign-in name logged, note (characters)
NAME_MAX_CHARS = 64
NOTE_MAX_CHARS = 500
#: the outcomes of a sign-in attempt, as logged
SIGN_IN_OUTCOMES = ("ok", "bad_password", "unknown_user", "disabled", "limited")

NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s",
          "pk": "pk_%(table_name)s"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """An aware datetime stored as naive UTC (SQLite keeps no offset), read back as aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored: {value!r} (give it a time zone)")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class User(Base):
    """A staff account: its role and, for an editor (or a viewer), its counties."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX_CHARS))
    #: the name case-folded: unique, what sign-in and the command line look up
    name_key: Mapped[str] = mapped_column(sa.String(NAME_MAX_CHARS), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: part of the session's user id: raised when the password, role or counties change, or the account
    #: is disabled, so that every earlier session of the account ends
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    counties: Mapped[list["UserCounty"]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                        lazy="selectin", order_by="UserCounty.county_code")
    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def county_codes(self) -> tuple[str, ...]:
        return tuple(c.county_code for c in self.counties)


class UserCounty(Base):
    """One county (adcode) of a user."""

    __tablename__ = "user_counties"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)

    user: Mapped[User] = relationship(back_populates="counties")


class ApiToken(Base):
    """An API token of a user: only the SHA-256 of the token is kept (the token is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class SignIn(Base):
    """One sign-in attempt: when, the name tried, the outcome, the client's network (never the password,
    never the full address: IPv4 cut to /24, IPv6 to /48)."""

    __tablename__ = "sign_ins"
    __table_args__ = (sa.CheckConstraint(_one_of("outcome", SIGN_IN_OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(sa.String(NAME_MAX_CHARS))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    success: Mapped[bool] = mapped_column(sa.Boolean)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    client: Mapped[str] = mapped_column(sa.String(64))


class Report(Base):
    """A worker's report about a station (no account needed; nothing about the worker beyond what was
    typed: no address, no device). ``lon``/``lat``: the reporter's position, WGS-84 degrees, optional."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.CheckConstraint(_one_of("kind", REPORT_KINDS), name="kind"),
        sa.CheckConstraint(_one_of("status", REPORT_STATUSES), name="status"),
        sa.CheckConstraint("(lon IS NULL) = (lat IS NULL)", name="position_whole"),
        sa.CheckConstraint("lon IS NULL OR (lon >= -180 AND lon <= 180 AND lat >= -90 AND lat <= 90)",
                           name="position_range"),
        # SQLite does not hold a VARCHAR to its length: the notes' limit is a constraint of its own
        sa.CheckConstraint(f"note IS NULL OR length(note) <= {NOTE_MAX_CHARS}", name="note_length"),
        sa.CheckConstraint(f"handler_note IS NULL OR length(handler_note) <= {NOTE_MAX_CHARS}",
                           name="handler_note_length"),
        sa.Index("ix_reports_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.String(NOTE_MAX_CHARS))
    lon: Mapped[float | None] = mapped_column(sa.Float)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    handled_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handler_note: Mapped[str | None] = mapped_column(sa.String(NOTE_MAX_CHARS))

    handler: Mapped[User | None] = relationship()
