"""Staff sign-in: the form (zh-CN first), CSRF, the session cookie, brute force slowed down, the log."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from staff import (PASSWORD, csrf_of, database_url, migrated_url, staff, staff_app,  # noqa: F401  (fixtures)
                   staff_config, cheap_hashing)


def sign_ins(app) -> list[dict]:
    with app.extensions["yizhan.db"].transaction() as s:
        rows = s.execute(sa.text("SELECT username, success, outcome, client, user_id FROM sign_ins ORDER BY id"))
        return [dict(r._mapping) for r in rows]


def test_the_sign_in_page_is_chinese_first_with_an_english_switch(staff_app):
    client = staff_app.test_client()
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="zh-CN">' in html and "用户名" in html and "密码" in html
    assert 'name="csrf_token"' in html and 'autocomplete="current-password"' in html
    assert "lang=en" in html and page.headers["Cache-Control"] == "no-store"
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "User name" in english and "Password" in english


def test_signing_in_opens_the_staff_page_and_signing_out_closes_it(staff_app, staff):
    client = staff_app.test_client()
    assert client.get("/manage").status_code == 302  # to the sign-in page
    assert client.get("/manage").headers["Location"].startswith("/login?next=")
    answer = staff.sign_in(client, "zou")
    assert answer.status_code == 302 and answer.headers["Location"] == "/manage"
    page = client.get("/manage")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "zou" in html and "370883" in html and "邹城市" in html
    assert "任城区" not in html and page.headers["Cache-Control"] == "no-store"
    # sign-out is a POST with the page's CSRF token
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    out = client.post("/logout", data={"csrf_token": csrf_of(html)})
    assert out.status_code == 302 and "signed_out=1" in out.headers["Location"]
    assert client.get("/manage").status_code == 302
    assert "您已退出登录" in client.get(out.headers["Location"]).get_data(as_text=True)


def test_next_takes_local_paths_only(staff_app, staff):
    client = staff_app.test_client()
    page = client.get("/login?next=/manage%3Flang%3Den").get_data(as_text=True)
    answer = client.post("/login", data={"username": "kan", "password": PASSWORD, "next": "/manage?lang=en",
                                         "csrf_token": csrf_of(page)})
    assert answer.headers["Location"] == "/manage?lang=en"
    client = staff_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = client.post("/login", data={"username": "kan", "password": PASSWORD, "next": elsewhere,
                                             "csrf_token": csrf_of(page)})
        assert answer.headers["Location"] == "/manage", elsewhere
        page = client.get("/login").get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused(staff_app, staff):
    client = staff_app.test_client()
    client.get("/login")
    answer = client.post("/login", data={"username": "zou", "password": PASSWORD})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    assert client.get("/manage").status_code == 302  # not signed in
    other = staff_app.test_client()  # another browser's token is not this one's
    token = csrf_of(other.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "zou", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 400


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(staff_app, staff):
    client = staff_app.test_client()
    cookie = client.get("/login").headers["Set-Cookie"]
    assert cookie.startswith("yizhan_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    https = staff_app.test_client()
    assert "Secure" in https.get("/login", base_url="https://localhost").headers["Set-Cookie"]


def test_behind_a_trusted_proxy_the_cookie_is_secure_when_the_client_used_https(staff_config):
    from web import create_app

    app = create_app({**staff_config, "PROXY_COUNT": 1})
    client = app.test_client()
    answer = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Secure" in answer.headers["Set-Cookie"]
    assert "Secure" not in app.test_client().get("/login", headers={"X-Forwarded-Proto": "http"}).headers["Set-Cookie"]
    app.extensions["yizhan.db"].dispose()


def test_a_wrong_password_says_so_and_is_logged_without_the_password(staff_app, staff):
    client = staff_app.test_client()
    answer = staff.sign_in(client, "zou", "wrong password", REMOTE_ADDR="203.0.113.77")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "用户名或密码不正确" in html and 'value="zou"' in html
    staff.sign_in(client, "nobody", "whatever123", REMOTE_ADDR="2001:db8:1234:5678::1")
    staff.sign_in(client, "ZOU", PASSWORD, REMOTE_ADDR="203.0.113.77")
    log = sign_ins(staff_app)
    assert [(r["username"], r["success"], r["outcome"], r["client"]) for r in log] == [
        ("zou", False, "bad_password", "203.0.113.0/24"),
        ("nobody", False, "unknown_user", "2001:db8:1234::/48"),
        ("ZOU", True, "ok", "203.0.113.0/24"),
    ]
    assert log[0]["user_id"] == log[2]["user_id"] is not None and log[1]["user_id"] is None
    text = repr(log)
    assert "wrong password" not in text and PASSWORD not in text and "203.0.113.77" not in text


def test_brute_force_is_slowed_down_after_five_failures_per_account(staff_app, staff):
    client = staff_app.test_client()
    for attempt in range(5):
        answer = staff.sign_in(client, "zou", f"guess number {attempt}", REMOTE_ADDR=f"198.51.100.{attempt}")
        assert answer.status_code == 200, attempt
    # the sixth try, even with the right password and from yet another address: refused unchecked
    answer = staff.sign_in(client, "zou", PASSWORD, REMOTE_ADDR="198.51.100.200")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 429 and 1 <= int(answer.headers["Retry-After"]) <= 15 * 60
    assert re.search(r"登录失败次数过多，请 \d+ 分钟后再试", html)
    page = client.get("/login?lang=en").get_data(as_text=True)
    english = client.post("/login?lang=en", data={"username": "zou", "password": PASSWORD,
                                                  "csrf_token": csrf_of(page)})
    assert english.status_code == 429 and "Too many failed sign-ins" in english.get_data(as_text=True)
    assert client.get("/manage").status_code == 302
    assert sign_ins(staff_app)[-1]["outcome"] == "limited"
    # another account is not locked by it
    assert staff.sign_in(staff_app.test_client(), "ren", PASSWORD, REMOTE_ADDR="198.51.100.201").status_code == 302


def test_brute_force_is_slowed_down_after_five_failures_per_client(staff_app, staff):
    client = staff_app.test_client()
    for attempt in range(5):
        assert staff.sign_in(client, f"user{attempt}", "guess guess", REMOTE_ADDR="192.0.2.5").status_code == 200
    assert staff.sign_in(client, "ren", PASSWORD, REMOTE_ADDR="192.0.2.5").status_code == 429
    assert staff.sign_in(client, "ren", PASSWORD, REMOTE_ADDR="192.0.2.6").status_code == 302


def test_a_disabled_account_cannot_sign_in_and_its_session_ends(staff_app, staff):
    from web import accounts

    client = staff_app.test_client()
    assert staff.sign_in(client, "ren").status_code == 302
    assert client.get("/manage").status_code == 200
    with staff_app.extensions["yizhan.db"].transaction() as s:
        accounts.set_disabled(s, "ren")
    assert client.get("/manage").status_code == 302
    assert staff.sign_in(staff_app.test_client(), "ren").status_code == 200
    assert sign_ins(staff_app)[-1]["outcome"] == "disabled"


def test_a_name_with_markup_is_shown_as_text(staff_app, staff):
    staff.add("<script>alert(1)<script>", "viewer")  # names hold no "/", so no closing tag
    client = staff_app.test_client()
    assert staff.sign_in(client, "<script>alert(1)<script>").status_code == 302
    html = client.get("/manage").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;script&gt;" in html
