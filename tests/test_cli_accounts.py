"""``yizhan user``, ``yizhan token``, ``yizhan db`` and ``serve``'s secret key (click's CliRunner).

The accounts database of these tests is the default one, ``<INSTANCE_PATH>/yizhan.sqlite3`` in
``tmp_path`` (``YIZHAN_INSTANCE_PATH``); ``test_db_upgrade_on_postgresql`` runs on PostgreSQL where
reachable (``accounts_db``).
"""
from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner

from accounts_db import database_url  # noqa: F401  (fixture)
from yizhan.cli import main

PASSWORD = "a long enough password"


@pytest.fixture
def env(tmp_path, stations_path, counties_path) -> dict:
    return {"YIZHAN_INSTANCE_PATH": str(tmp_path / "instance"), "YIZHAN_STATIONS_PATH": str(stations_path),
            "YIZHAN_COUNTIES_PATH": str(counties_path), "YIZHAN_DATABASE_URL": None, "YIZHAN_SECRET_KEY": None}


@pytest.fixture
def run(env):
    def invoke(*args, input=None, extra=None):
        return CliRunner().invoke(main, list(args), input=input, env={**env, **(extra or {})})
    return invoke


@pytest.fixture
def upgraded(run):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    return run


def test_db_upgrade_migrates_the_default_sqlite_file_and_says_so(run, env):
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "accounts database sqlite:///" in result.output and "at migration 0001" in result.output
    assert os.path.isfile(os.path.join(env["YIZHAN_INSTANCE_PATH"], "yizhan.sqlite3"))
    assert run("db", "upgrade").exit_code == 0  # again: nothing to do


def test_db_upgrade_on_postgresql_too(run, database_url):
    result = run("db", "upgrade", extra={"YIZHAN_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "at migration 0001" in result.output and "password" not in result.output


def test_account_commands_need_the_migrated_database(run):
    result = run("user", "list")
    assert result.exit_code == 1 and "yizhan db upgrade" in result.output


def test_user_add_reads_the_password_from_stdin_and_never_echoes_it(upgraded):
    result = upgraded("user", "add", "admin", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "added admin: admin" and PASSWORD not in result.output
    result = upgraded("user", "add", "zou", "--role", "editor", "--county", "370883", "--password-stdin",
                      input=PASSWORD)
    assert result.exit_code == 0 and "zou: editor of 370883" in result.output
    listed = upgraded("user", "list")
    assert listed.exit_code == 0 and PASSWORD not in listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == ["name", "role", "counties", "state", "created"]
    assert lines[1].split()[:4] == ["admin", "admin", "-", "active"]
    assert lines[2].split()[:4] == ["zou", "editor", "370883", "active"]


@pytest.mark.parametrize("args, stdin, message", [
    (["--role", "editor"], PASSWORD, "an editor needs at least one county"),
    (["--role", "editor", "--county", "999999"], PASSWORD, "999999"),
    (["--role", "admin", "--county", "370883"], PASSWORD, "an admin has every county"),
    (["--role", "viewer"], "short", "a password of 10"),
    (["--role", "viewer"], "two\nlines", "one line"),
])
def test_user_add_refuses_with_exit_code_1_naming_the_problem(upgraded, args, stdin, message):
    result = upgraded("user", "add", "li", *args, "--password-stdin", input=stdin)
    assert result.exit_code == 1 and message in result.output
    assert "short" not in result.output.replace("a password of", "")  # the password itself is never shown


def test_a_second_user_of_the_same_name_is_refused(upgraded):
    assert upgraded("user", "add", "Wang", "--role", "viewer", "--password-stdin", input=PASSWORD).exit_code == 0
    result = upgraded("user", "add", "wang", "--role", "viewer", "--password-stdin", input=PASSWORD)
    assert result.exit_code == 1 and "exists already" in result.output


def test_set_role_set_password_and_disable(upgraded):
    upgraded("user", "add", "ren", "--role", "editor", "--county", "370811", "--password-stdin", input=PASSWORD)
    result = upgraded("user", "set-role", "ren", "--role", "editor", "--county", "370811", "--county", "370812")
    assert result.exit_code == 0 and "ren: editor of 370811, 370812" in result.output
    result = upgraded("user", "set-password", "ren", "--password-stdin", input="another long password\n")
    assert result.exit_code == 0 and "another" not in result.output
    assert upgraded("user", "disable", "ren").output.strip() == "disabled ren: editor of 370811, 370812 (disabled)"
    assert "disabled" in upgraded("user", "list").output
    assert upgraded("user", "disable", "ren", "--enable").exit_code == 0
    missing = upgraded("user", "disable", "nobody")
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output


def test_a_token_is_printed_once_and_works_until_revoked(upgraded, env, stations_path, counties_path):
    upgraded("user", "add", "ren", "--role", "editor", "--county", "370811", "--password-stdin", input=PASSWORD)
    result = upgraded("token", "create", "ren", "--expires-days", "30")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("yzt_") and "\n" not in token and token not in result.stderr
    assert "token 1 for ren" in result.stderr and "expires" in result.stderr
    listed = upgraded("token", "list")
    assert token not in listed.output and "ren" in listed.output

    from web import create_app
    app = create_app({"INSTANCE_PATH": env["YIZHAN_INSTANCE_PATH"], "STATIONS_PATH": str(stations_path),
                      "COUNTIES_PATH": str(counties_path), "TESTING": True})
    client = app.test_client()

    def rename(name):
        etag = client.get("/api/stations/JN-RS-0001").headers["ETag"]
        return client.patch("/api/stations/JN-RS-0001", data=json.dumps({"properties": {"name": name}}),
                            content_type="application/merge-patch+json",
                            headers={"Authorization": f"Bearer {token}", "If-Match": etag})

    assert rename("令牌改名").status_code == 200
    assert app.extensions["yizhan"].store.history("JN-RS-0001")[0].who == "ren"
    revoked = upgraded("token", "revoke", "1")
    assert revoked.exit_code == 0 and "revoked token 1 of ren" in revoked.output
    assert rename("再改").status_code == 401
    assert upgraded("token", "revoke", "99").exit_code == 1
    app.extensions["yizhan.db"].dispose()


def test_serve_refuses_to_start_without_a_secret_key(run, env):
    result = run("serve", "--port", "1")
    assert result.exit_code == 1 and "SECRET_KEY" in result.output and "--instance-secret-key" in result.output
    short = run("serve", "--port", "1", extra={"YIZHAN_SECRET_KEY": "too-short"})
    assert short.exit_code == 1 and "too-short" not in short.output  # a secret is never shown


def test_the_instance_secret_key_is_made_once_with_mode_0600(tmp_path):
    from web.auth import instance_secret_key

    key = instance_secret_key(str(tmp_path / "inst"))
    path = tmp_path / "inst" / "secret_key"
    assert len(key) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_secret_key(str(tmp_path / "inst")) == key
