"""The import from the site (``/manage/import``): upload, dry run, report, confirm, revert; who may do
what (admins every county, editors their counties' rows, viewers nothing, the public the template only);
CSRF; the upload size limit (413); a store changed between the dry run and the confirmation; where and
how long uploads are kept."""
from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coord_reference import metres_apart, wgs_to_gcj
from staff import (Staff, cheap_hashing, csrf_of, database_url, migrated_url, staff, staff_app,  # noqa: F401
                   staff_config)
from stations.errors import NotFound
from web.accounts import Account
from web.manage.uploads import Uploads
from web.permissions import NotAllowed, revert_change

HEADER = ["编号", "名称", "类型", "区县", "经度", "纬度", "设施"]
NEW_REN = ["", "新建路驿站", "爱心驿站", "任城区", 116.5600, 35.4300, "饮水、卫生间"]   # 370811: added
CHANGED = ["JN-RS-0002", "太白楼路驿站", "爱心驿站", "任城区", 116.6000, 35.4050, "饮水"]  # amenities changed
NEW_ZOU = ["", "邹城南驿站", "爱心驿站", "邹城市", 117.0500, 35.1000, "饮水"]        # 370883: added
BAD = ["", "坏驿站", "飞船", "任城区", 116.58, 35.41, "饮水"]                      # unknown kind: rejected
DIGEST = re.compile(r'name="digest" value="([0-9a-f]{16})"')


def table(*rows, header=HEADER) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def token_of(client) -> str:
    """The session's CSRF token (the sign-out form of ``/manage`` has it, for every account)."""
    return csrf_of(client.get("/manage").get_data(as_text=True))


def upload(client, data: bytes, name: str = "名单.csv", **options):
    """POST the upload form as a browser would (with the page's CSRF token)."""
    token = token_of(client)
    form = {"csrf_token": token, "file": (io.BytesIO(data), name), **options}
    return client.post("/manage/import", data=form, content_type="multipart/form-data")


def dry_run(client, data: bytes, name: str = "名单.csv", **options):
    """(report URL, its page's HTML) after uploading ``data``."""
    answer = upload(client, data, name, **options)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    url = answer.headers["Location"]
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    return url, page.get_data(as_text=True)


def confirm(client, report_url: str, html: str, **extra):
    digest = DIGEST.search(html)
    form = {"csrf_token": csrf_of(html), "digest": digest.group(1) if digest else "", **extra}
    return client.post(report_url + "/confirm", data=form)


def counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)"[^>]*><strong>(\d+)</strong>', html)}


def map_points(html: str) -> dict[str, tuple[float, float]]:
    """The dry run's map points (name -> (lon, lat)), from the page's JSON."""
    found = re.search(r'<script type="application/json" id="yz-import-data">(.*?)</script>', html, re.S)
    return {p["name"]: (p["lon"], p["lat"]) for p in json.loads(found.group(1))["points"]}


def store_of(app):
    return app.extensions["yizhan"].store


def kept_uploads(app) -> list[str]:
    folder = Path(app.instance_path) / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ---- who may see and do what -------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(staff_app):
    answer = staff_app.test_client().get("/manage/import")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=/manage/import")


def test_a_viewer_sees_the_page_but_cannot_upload(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "kan")
    html = client.get("/manage/import").get_data(as_text=True)
    assert 'id="import-viewer"' in html and 'id="import-upload"' not in html
    assert "/manage/import/template.xlsx" in html  # the template, still
    assert upload(client, table(NEW_REN)).status_code == 403
    assert kept_uploads(staff_app) == []


def test_the_staff_nav_links_the_import_page(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    html = client.get("/manage/import").get_data(as_text=True)
    assert re.search(r'<a href="/manage/import[^"]*" aria-current="page">导入</a>', html)
    english = client.get("/manage/import?lang=en").get_data(as_text=True)
    assert ">Import</a>" in english and "Import a station list" in english


def test_the_template_is_public_in_either_language(staff_app):
    client = staff_app.test_client()
    answer = client.get("/manage/import/template.xlsx")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in answer.headers["Content-Disposition"] and "filename*=UTF-8''" in answer.headers[
        "Content-Disposition"]
    assert load_workbook(io.BytesIO(answer.data)).sheetnames == ["驿站", "填写说明"]
    english = load_workbook(io.BytesIO(client.get("/manage/import/template.xlsx?lang=en").data))
    assert english.sheetnames == ["stations", "instructions"]
    assert [c.value for c in english["stations"][1]][:3] == ["id", "name", "kind"]


# ---- upload, dry run, report, confirm, revert -----------------------------------------------------------

def test_upload_dry_run_report_confirm_and_revert(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    store = store_of(staff_app)
    before = {s.id: s.to_feature() for s in store.all()}
    url, html = dry_run(client, table(NEW_REN, CHANGED, BAD))
    assert re.fullmatch(r"/manage/import/[A-Za-z0-9_-]{22}", url)
    assert counts(html) == {"rows": 3, "added": 1, "changed": 1, "unchanged": 0, "removed": 0,
                            "kept": len(before) - 1, "rejected": 1, "skipped": 0}
    # the bad row: its number (header is row 1), its column and field, the reason
    bad = re.search(r'<tr data-row="4" data-code="unknown_kind"[^>]*>(.*?)</tr>', html, re.S)
    assert bad and "类型" in bad.group(1) and "kind" in bad.group(1) and "飞船" in bad.group(1)
    assert "amenities" in html and "新建路驿站" in html
    data = json.loads(re.search(r'<script type="application/json" id="yz-import-data">(.*?)</script>', html, re.S)
                      .group(1))
    assert sorted(p["action"] for p in data["points"]) == ["add", "change"]
    assert {p["name"]: (p["lon"], p["lat"]) for p in data["points"]}["新建路驿站"] == (116.56, 35.43)
    assert "<script>" not in html and "leaflet.js" in html and "js/import-map.js" in html  # no inline script
    assert store.version and {s.id: s.to_feature() for s in store.all()} == before  # a dry run writes nothing

    xlsx = client.get(url + "/report.xlsx")
    assert xlsx.status_code == 200 and "filename*=UTF-8''" in xlsx.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "行号" and rows[3][0] == 4 and rows[3][-3] == "拒绝" and "飞船" in rows[3][-1]
    report_csv = client.get(url + "/report.csv?lang=en").data.decode("utf-8-sig")
    assert report_csv.splitlines()[0].startswith("row,") and "rejected" in report_csv
    client.get("/manage/import?lang=zh")  # ?lang= is remembered: back to Chinese

    refused = confirm(client, url, html)  # a rejected row and no skip-bad: nothing written, the page says so
    assert refused.status_code == 422 and "1 行被拒绝" in refused.get_data(as_text=True)
    assert {s.id: s.to_feature() for s in store.all()} == before

    done = confirm(client, url, html, skip_bad="1")
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    entry_url = done.headers["Location"]
    entry_id = int(re.fullmatch(r"/manage/import/entries/(\d+)", entry_url).group(1))
    entry = store.journal_entry(entry_id)
    assert entry.action == "import" and entry.who == "admin" and len(entry.changed) == 2
    added = next(s for s in store.all() if s.name == "新建路驿站")
    assert store.get("JN-RS-0002").amenities == ("drinking_water",)
    assert kept_uploads(staff_app) == []  # the upload is deleted once confirmed
    assert client.get(url).status_code == 404

    page = client.get(entry_url).get_data(as_text=True)
    assert 'id="import-revert"' in page and added.id in page and f"/stations/{added.id}" in page
    assert counts(page) == {"add": 1, "change": 1, "remove": 0}
    if "manage.station_history" in staff_app.view_functions:  # the staff's station history, where it exists
        assert f"/manage/stations/{added.id}/history" in page
    assert f"/manage/import/entries/{entry_id}" in client.get("/manage/import").get_data(as_text=True)  # recent

    reverted = client.post(entry_url + "/revert", data={"csrf_token": csrf_of(page)})
    assert reverted.status_code == 303 and reverted.headers["Location"] == entry_url
    assert {s.id: s.to_feature() for s in store.all()} == before
    after = client.get(entry_url).get_data(as_text=True)
    assert 'id="import-reverted"' in after and 'id="import-revert"' not in after
    assert store.history(limit=1)[0].reverts == entry_id


def test_an_editor_imports_only_the_rows_of_their_counties_and_reverts_only_their_imports(staff_app, staff):
    ren, zou, admin = (staff_app.test_client() for _ in range(3))
    staff.sign_in(ren, "ren")  # editor of 任城区 (370811)
    staff.sign_in(zou, "zou")  # editor of 邹城市 (370883)
    staff.sign_in(admin, "admin")
    url, html = dry_run(ren, table(NEW_REN, NEW_ZOU))
    assert counts(html)["added"] == 1 and counts(html)["rejected"] == 1
    assert re.search(r'<tr data-row="3" data-code="county_not_allowed"', html) and 'id="import-restricted"' in html
    assert zou.get(url).status_code == 404  # an upload is its uploader's alone
    done = confirm(ren, url, html, skip_bad="1")
    assert done.status_code == 303
    store = store_of(staff_app)
    names = {s.name for s in store.all()}
    assert "新建路驿站" in names and "邹城南驿站" not in names
    entry_url = done.headers["Location"]
    page = zou.get(entry_url).get_data(as_text=True)
    assert 'id="import-revert"' not in page and 'id="import-no-revert"' in page
    assert zou.post(entry_url + "/revert", data={"csrf_token": token_of(zou)}).status_code == 403
    # an admin's import touching 邹城市 is not ren's to revert
    a_url, a_html = dry_run(admin, table(NEW_ZOU))
    a_entry = confirm(admin, a_url, a_html).headers["Location"]
    a_page = ren.get(a_entry).get_data(as_text=True)
    assert 'id="import-revert"' not in a_page
    assert ren.post(a_entry + "/revert", data={"csrf_token": token_of(ren)}).status_code == 403
    mine = ren.get(entry_url).get_data(as_text=True)
    assert ren.post(entry_url + "/revert", data={"csrf_token": csrf_of(mine)}).status_code == 303
    assert "新建路驿站" not in {s.name for s in store.all()}


def test_revert_change_lets_an_editor_revert_an_import_within_their_counties(staff_app, staff):
    store = store_of(staff_app)
    counties = staff_app.extensions["yizhan"].counties
    site = {"store": store, "counties": counties}
    from stations.importing import ImportOptions, apply_import, plan_import, read_table

    plan = plan_import(read_table(table(NEW_REN, CHANGED), filename="a.csv"), store, counties, ImportOptions())
    entry_id = apply_import(plan, store, "admin").entry_ids[0]
    zou = Account(3, "zou", "editor", ("370883",), 1)
    ren = Account(2, "ren", "editor", ("370811",), 1)
    with pytest.raises(NotAllowed):
        revert_change(zou, entry_id, **site)
    revert_change(ren, entry_id, **site)
    assert "新建路驿站" not in {s.name for s in store.all()}


# ---- the confirmation is the dry run shown ----------------------------------------------------------------

def test_a_store_changed_since_the_dry_run_shows_the_new_dry_run(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    url, html = dry_run(client, table(NEW_REN, CHANGED))
    store = store_of(staff_app)
    store.update("JN-RS-0002", {"amenities": ["drinking_water"]}, who="someone else")  # the change, done meanwhile
    stale = confirm(client, url, html)
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409 and 'id="import-notice"' in page and "已被修改" in page
    assert counts(page)["changed"] == 0 and counts(page)["unchanged"] == 1 and counts(page)["added"] == 1
    assert DIGEST.search(page).group(1) != DIGEST.search(html).group(1)
    assert "新建路驿站" not in {s.name for s in store.all()}  # nothing written
    again = confirm(client, url, page)  # confirming what is shown now
    assert again.status_code == 303 and "新建路驿站" in {s.name for s in store.all()}


def test_a_confirmation_without_the_digest_shown_is_refused(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    url, html = dry_run(client, table(NEW_REN))
    answer = client.post(url + "/confirm", data={"csrf_token": csrf_of(html), "digest": "0123456789abcdef"})
    assert answer.status_code == 409 and "新建路驿站" not in {s.name for s in store_of(staff_app).all()}


# ---- CSRF, sizes, kinds of file ------------------------------------------------------------------------------

def test_every_post_needs_the_csrf_token(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    no_token = client.post("/manage/import", data={"file": (io.BytesIO(table(NEW_REN)), "a.csv")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400 and kept_uploads(staff_app) == []
    url, html = dry_run(client, table(NEW_REN))
    digest = DIGEST.search(html).group(1)
    assert client.post(url + "/confirm", data={"digest": digest}).status_code == 400
    assert client.post(url + "/confirm", data={"digest": digest, "csrf_token": "forged"}).status_code == 400
    assert "新建路驿站" not in {s.name for s in store_of(staff_app).all()}


@pytest.fixture
def small_app(staff_config):
    from web import create_app

    app = create_app({**staff_config, "IMPORT_MAX_BYTES": 2048})
    made = Staff(app)
    made.add("admin")
    yield app, made
    app.extensions["yizhan.db"].dispose()


def test_an_upload_over_import_max_bytes_is_a_413_and_nothing_is_kept(small_app):
    app, made = small_app
    client = app.test_client()
    made.sign_in(client, "admin")
    just_over = table(*[NEW_REN] * 60)  # > 2048 bytes, within the form's margin: refused while copied
    assert 2048 < len(just_over) < 2048 + 64 * 1024
    answer = upload(client, just_over)
    assert answer.status_code == 413 and answer.mimetype == "text/html"
    assert "IMPORT_MAX_BYTES" in answer.get_data(as_text=True)
    far_over = b"x" * (200 * 1024)  # the whole body over MAX_CONTENT_LENGTH: refused before it is read
    huge = upload(client, far_over)
    assert huge.status_code == 413 and huge.mimetype == "text/html"
    assert kept_uploads(app) == []
    assert upload(client, table(NEW_REN)).status_code == 303  # a small one is fine


def test_a_file_of_another_type_is_refused_and_an_unreadable_one_says_why(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    assert upload(client, b"hello", name="名单.docx").status_code == 400
    url, html = dry_run(client, b"this is not a workbook", name="名单.xlsx")
    assert 'data-code="unreadable_file"' in html and 'id="import-confirm"' not in html
    assert 'id="import-rerun" open' in html  # the options, to try another sheet or encoding


def test_options_can_change_for_the_same_upload(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    wgs = (116.5600, 35.4300)
    gcj = wgs_to_gcj(*wgs)  # as AMap shows the same place
    url, html = dry_run(client, table(["", "高德驿站", "爱心驿站", "任城区", round(gcj[0], 7), round(gcj[1], 7), ""]))
    assert metres_apart(map_points(html)["高德驿站"], wgs) > 100  # read as WGS-84: some hundreds of metres off
    answer = client.post(url, data={"csrf_token": csrf_of(html), "crs": "gcj02", "mode": "merge"})
    assert answer.status_code == 303 and answer.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert '<option value="gcj02" selected>' in page
    assert metres_apart(map_points(page)["高德驿站"], wgs) < 0.5


def test_a_dropped_upload_is_deleted(staff_app, staff):
    client = staff_app.test_client()
    staff.sign_in(client, "admin")
    url, html = dry_run(client, table(NEW_REN))
    assert len(kept_uploads(staff_app)) == 2  # the file and its notes
    answer = client.post(url + "/drop", data={"csrf_token": csrf_of(html)})
    assert answer.status_code == 303 and kept_uploads(staff_app) == []


# ---- where uploads are kept -------------------------------------------------------------------------------

def test_uploads_are_kept_under_random_names_for_their_owner_until_they_expire(tmp_path):
    kept = Uploads(tmp_path / "imports", max_bytes=1000, keep_s=60)
    one = kept.save(io.BytesIO(b"a,b\n1,2\n"), "../../etc/名单.csv", ".csv", owner=7, options={"crs": "gcj02"})
    assert one.path.parent == tmp_path / "imports" and one.path.name == f"{one.token}.csv"
    assert (one.path.stat().st_mode & 0o777) == 0o600 and ((tmp_path / "imports").stat().st_mode & 0o777) == 0o700
    assert kept.get(one.token, 7).options == {"crs": "gcj02"} and kept.get(one.token, 7).filename == "../../etc/名单.csv"
    for token, owner in ((one.token, 8), ("../" + one.token, 7), ("x" * 22, 7), ("", 7)):
        with pytest.raises(NotFound):
            kept.get(token, owner)
    with pytest.raises(Exception) as too_big:
        kept.save(io.BytesIO(b"x" * 1001), "big.csv", ".csv", owner=7)
    assert getattr(too_big.value, "code", None) == 413
    assert sorted(p.name for p in (tmp_path / "imports").iterdir()) == sorted([one.path.name, f"{one.token}.json"])
    assert kept.sweep(now=time.time() + 61) == 1 and list((tmp_path / "imports").iterdir()) == []
