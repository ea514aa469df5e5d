"""The one catalogue of UI strings (``stations/locale/<lang>/LC_MESSAGES/messages.po``).

Both languages hold the same keys, each with text and the same ``{placeholders}``; every key the
code, the templates and the page scripts ask for is there, and every key there is asked for.
"""
from __future__ import annotations

import io
import re
import shutil
import string
import subprocess
from pathlib import Path

import flask_babel
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import render_template_string
from markupsafe import escape

from stations import hours, i18n, report
from web import i18n as web_i18n

ROOT = Path(__file__).resolve().parent.parent

# t('key'), _("key"), gettext('key'), both('key') in templates; translate("key"), gettext("key") in Python
TEMPLATE_CALL = re.compile(r"""\b(?:t|_|gettext|both)\(\s*['"]([A-Za-z0-9_.]+)['"]\s*[,)]""")
PYTHON_CALL = re.compile(r"""\b(?:translate|gettext|both|_)\(\s*['"]([A-Za-z0-9_.]+)['"]\s*[,)]""")
JS_STRING = re.compile(r"""\bS\.([A-Za-z0-9_]+)|\bfmt\(\s*['"]([A-Za-z0-9_]+)['"]""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def catalogue_problems(catalogs: dict[str, Catalog]) -> list[str]:
    """Every way the catalogues disagree: a key in one language only, an empty or fuzzy entry,
    different placeholders."""
    problems = []
    entries = {lang: {m.id: m for m in cat if m.id} for lang, cat in catalogs.items()}
    every = set().union(*entries.values())
    for key in sorted(every):
        missing = [lang for lang in entries if key not in entries[lang]]
        if missing:
            problems.append(f"{key}: missing in {', '.join(missing)}")
            continue
        for lang, messages in entries.items():
            if not messages[key].string:
                problems.append(f"{key}: empty in {lang}")
            if messages[key].fuzzy:
                problems.append(f"{key}: fuzzy in {lang}")
        names = {lang: placeholders(messages[key].string or "") for lang, messages in entries.items()}
        if len({frozenset(n) for n in names.values()}) > 1:
            problems.append(f"{key}: placeholders differ: {names}")
    return problems


def read(text: str, lang: str) -> Catalog:
    return read_po(io.BytesIO(text.encode("utf-8")), locale=lang)


def used_keys() -> set[str]:
    """Keys named literally in templates and Python, and composed from the vocabularies and tables."""
    found: set[str] = set()
    for path in (ROOT / "web" / "templates").rglob("*.html"):
        found |= set(TEMPLATE_CALL.findall(path.read_text(encoding="utf-8")))
    for package in ("web", "stations", "yizhan"):
        for path in (ROOT / package).rglob("*.py"):
            found |= set(PYTHON_CALL.findall(path.read_text(encoding="utf-8")))
    found |= set(web_i18n.JS_KEYS)
    return found | composed_keys()


def composed_keys() -> set[str]:
    """Keys the code builds from a name (``f"kind.{key}"``, ``f"report.col.{key}"``, ``f"hours.{day}"``)."""
    keys = {f"{vocab}.{key}" for vocab, names in i18n.VOCABULARIES.items() for key in names}
    keys |= {f"report.col.{key}" for key in report.COLUMNS}
    keys |= {f"report.sug.{key}" for key in report.SUGGESTION_COLUMNS}
    keys |= {f"report.unit.{unit}" for unit in report.GAIN_UNITS}
    keys |= {f"hours.{name}" for name in (*hours.WEEKDAYS, *hours.MONTHS, *hours.WORD_KEYS)}
    return keys


# ---- the two catalogues agree -------------------------------------------------------------------

def test_both_languages_hold_the_same_keys_each_with_text_and_the_same_placeholders():
    catalogs = {lang: i18n.catalog(lang) for lang in i18n.LANGS}
    assert catalogue_problems(catalogs) == []
    assert len(i18n.messages("zh")) == len(i18n.messages("en")) > 200


def test_a_key_in_one_language_only_an_empty_text_or_other_placeholders_are_reported():
    zh = read('msgid "a"\nmsgstr "甲"\n\nmsgid "b"\nmsgstr ""\n\nmsgid "c"\nmsgstr "{n} 个"\n\n'
              'msgid "d"\nmsgstr "只有中文"\n', "zh")
    en = read('msgid "a"\nmsgstr "A"\n\nmsgid "b"\nmsgstr "B"\n\nmsgid "c"\nmsgstr "{count} items"\n\n'
              '#, fuzzy\nmsgid "e"\nmsgstr "English only"\n', "en")
    problems = catalogue_problems({"zh": zh, "en": en})
    assert problems == ["b: empty in zh", "c: placeholders differ: {'zh': {'n'}, 'en': {'count'}}",
                        "d: missing in en", "e: missing in zh"]


def test_each_catalogue_says_its_language():
    for lang in i18n.LANGS:
        assert str(i18n.catalog(lang).locale) == lang


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_gettext_tools_accept_both_catalogues():
    for lang in i18n.LANGS:
        po = ROOT / "stations" / "locale" / lang / "LC_MESSAGES" / "messages.po"
        result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


# ---- every key asked for is there, and every key there is asked for ------------------------------

def test_every_key_that_templates_python_and_page_scripts_use_is_in_the_catalogue():
    used = used_keys()
    assert len(used) > 200  # the scan found the calls
    assert sorted(key for key in used if not i18n.has(key)) == []


def test_every_string_of_the_map_script_is_sent_to_it():
    source = (ROOT / "web" / "static" / "js" / "map.js").read_text(encoding="utf-8")
    asked = {a or b for a, b in JS_STRING.findall(source)}
    assert asked and sorted(asked - set(web_i18n.JS_KEYS)) == []


def sources() -> str:
    """The text of every template, page script and Python module of the site, the domain and the CLI."""
    paths = [*(ROOT / "web" / "templates").rglob("*.html"), *(ROOT / "web" / "static").rglob("*.js")]
    paths += [path for package in ("web", "stations", "yizhan") for path in (ROOT / package).rglob("*.py")]
    return "\n".join(path.read_text(encoding="utf-8") for path in paths if "vendor" not in path.parts)


def test_every_key_in_the_catalogue_is_used():
    """Asked for by a call (``t('key')``), built from a table (``composed_keys``), or named in the code as
    a string (``error="auth.failed"``) or as a quoted prefix (``f"role.{role}"``, ``'report.unit.' ~ unit``)."""
    text = sources()

    def named(key: str) -> bool:
        if re.search(rf"""['"]{re.escape(key)}['"]""", text):
            return True
        parts = key.split(".")
        return any(re.search(rf"""['"]{re.escape(".".join(parts[:i]))}\.""", text) for i in range(1, len(parts)))

    assert sorted(key for key in set(i18n.messages("zh")) - used_keys() if not named(key)) == []


def test_templates_hold_no_chinese_text_outside_the_catalogue():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for path in (ROOT / "web" / "templates").rglob("*.html"):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)  # comments
        assert not cjk.search(text), path.name


# ---- the API -----------------------------------------------------------------------------------------

def test_gettext_fills_placeholders_in_the_asked_language():
    assert i18n.gettext("walk_minutes", "zh", n=7) == "步行约 7 分钟"
    assert i18n.gettext("walk_minutes", "en", n=7) == "about 7 min walk"
    assert i18n.gettext("site_tagline", "en", city="Jining") == "Outdoor workers' rest stations in Jining"


def test_gettext_refuses_an_unknown_language_and_answers_an_unknown_key_with_the_key():
    with pytest.raises(ValueError, match="'fr'"):
        i18n.gettext("site_title", "fr")
    assert i18n.gettext("no.such.key", "en") == "no.such.key"


def test_vocabulary_labels_come_from_the_catalogue():
    assert i18n.label("kind", "rest_station", "zh") == "户外劳动者驿站"
    assert i18n.label("amenity", "drinking_water", "en") == "Drinking water"
    assert i18n.label("status", "not_a_status", "en") == "not_a_status"
    assert i18n.label("status", None, "en") == ""
    assert i18n.labels("status", "en")["temporarily_closed"] == "Temporarily closed"
    both = i18n.vocabulary_labels("kind")
    assert list(both) == list(i18n.VOCABULARIES["kind"])
    assert both["cultural_palace"] == {"zh": "工人文化宫", "en": "Workers' cultural palace"}
    with pytest.raises(ValueError, match="'colour'"):
        i18n.label("colour", "red", "en")


def test_the_compiled_translations_answer_as_the_catalogue_does():
    for lang in i18n.LANGS:
        compiled = i18n.translations(lang)
        assert {key: compiled.gettext(key) for key in i18n.messages(lang)} == dict(i18n.messages(lang))


# ---- Flask-Babel --------------------------------------------------------------------------------------

def test_flask_babel_follows_the_language_choice_and_reads_the_catalogue(app):
    for url, cookie, expected in (("/?lang=en", None, "en"), ("/", "en", "en"), ("/?lang=fr", None, "zh"),
                                  ("/?lang=zh", "en", "zh")):
        headers = {"Cookie": f"lang={cookie}"} if cookie else {}
        with app.test_request_context(url, headers=headers):
            assert str(flask_babel.get_locale()) == expected
            assert flask_babel.gettext("site_title") == i18n.gettext("site_title", expected)
            rendered = render_template_string("{{ _('walk_minutes', n=3) }}|{{ gettext('kind.rest_station') }}")
            assert rendered == str(escape(i18n.gettext("walk_minutes", expected, n=3) + "|"
                                          + i18n.label("kind", "rest_station", expected)))


def test_the_default_language_setting_is_flask_babels_default(app_config):
    from web import create_app

    app = create_app({**app_config, "DEFAULT_LANG": "en"})
    with app.test_request_context("/"):
        assert str(flask_babel.get_locale()) == "en"
        assert flask_babel.gettext("map") == "Map"
