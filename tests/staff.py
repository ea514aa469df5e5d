"""The site with staff accounts, for the sign-in, permission and write API tests.

``staff_app`` is the conftest's app (tiny counties and stations in ``tmp_path``) on a migrated
accounts database of each backend (``accounts_db``); ``staff`` adds accounts and tokens to it and
signs test clients in through the real form (CSRF token included). The accounts: ``admin``;
``ren`` editor of 任城区 (370811); ``zou`` editor of 邹城市 (370883); ``kan`` a viewer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from accounts_db import database_url, migrated_url  # noqa: F401  (fixtures)

PASSWORD = "correct horse battery"
ACCOUNTS = {"admin": ("admin", ()), "ren": ("editor", ("370811",)), "zou": ("editor", ("370883",)),
            "kan": ("viewer", ())}
SECRET = "test-secret-key-that-is-long-enough-0123456789"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


@pytest.fixture
def cheap_hashing(monkeypatch):
    """argon2 with small parameters: the staff tests sign in often (``test_accounts_db`` checks the real ones)."""
    from argon2 import PasswordHasher

    from web import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy password"))


@pytest.fixture
def staff_config(app_config, migrated_url, tmp_path, cheap_hashing) -> dict:
    return {**app_config, "DATABASE_URL": migrated_url, "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": SECRET}


@pytest.fixture
def staff_app(staff_config):
    from web import create_app

    app = create_app(staff_config)
    yield app
    app.extensions["yizhan.db"].dispose()


@dataclass
class Staff:
    app: object

    def add(self, name: str, role: str | None = None, counties=(), password: str = PASSWORD):
        from web import accounts

        role, counties = (role, counties) if role else ACCOUNTS[name]
        database = self.app.extensions["yizhan.db"]
        with database.transaction() as session:
            known = list(self.app.extensions["yizhan"].counties.codes)
            return accounts.account_of(accounts.add_user(session, name, role, counties, password, known))

    def token(self, name: str, expires_days: int | None = None) -> str:
        from web import accounts

        with self.app.extensions["yizhan.db"].transaction() as session:
            return accounts.create_token(session, name, expires_days)[1]

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name)}"}

    def sign_in(self, client, name: str, password: str = PASSWORD, **environ):
        """Sign ``client`` in through the form; returns the answer to the POST."""
        page = client.get("/login", environ_base=environ)
        return client.post("/login", data={"username": name, "password": password,
                                           "csrf_token": csrf_of(page.get_data(as_text=True))},
                           environ_base=environ)

    def session_headers(self, client) -> dict[str, str]:
        """The CSRF header of a signed-in client (the token from a page it is shown)."""
        return {"X-CSRFToken": csrf_of(client.get("/manage").get_data(as_text=True))}


@pytest.fixture
def staff(staff_app) -> Staff:
    made = Staff(staff_app)
    for name in ACCOUNTS:
        made.add(name)
    return made
