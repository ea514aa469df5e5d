"""The site's languages: zh-CN first, English via ``?lang=en``; the strings come from one catalogue.

The language comes from ``?lang=`` (remembered in a cookie), else the cookie, else
``DEFAULT_LANG``: :func:`get_lang`, which is also Flask-Babel's locale selector. Every string is
in the gettext catalogue ``stations/locale/<lang>/LC_MESSAGES/messages.po`` (``stations.i18n``:
the command line reads the same, without Flask); Flask-Babel gets it compiled in memory
(:class:`CatalogueDomain`), so ``flask_babel.gettext`` and the templates' ``_()`` and ``gettext()``
answer from it too. Templates call ``t(key, **values)`` (``str.format`` placeholders) and
``label(vocab, key)``.
"""
from __future__ import annotations

from typing import Any

import flask_babel
from babel.support import Translations
from flask import Flask, current_app, has_request_context, request

from stations import i18n as catalogue

LANGS = catalogue.LANGS
HTML_LANG = {"zh": "zh-CN", "en": "en"}
COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600

# The strings the map page's script needs (sent as JSON, never spliced into JS source).
JS_KEYS = (
    "locating", "searching", "pick_hint", "open_now", "closed_now", "hours_unknown", "open_24h",
    "straight_line", "walk_minutes", "walk_hours", "walk_hours_even", "you_are_here", "nearest_title", "search_results", "no_results",
    "no_match", "geo_denied", "geo_unavailable", "geo_timeout", "geo_unsupported", "geo_fallback",
    "api_error", "details", "navigate_amap", "address", "opening_hours", "phone", "phone_extension", "status",
    "sample_data", "meters", "kilometers", "results_for", "close", "legend", "amenities",
    "zoom_in_hint", "search_enter",
    "report_problem", "reported_on",
    # the worker's answer: when a closed station opens, the walking route, no navigation where one cannot go,
    # the place search
    "opens_at", "opens_tomorrow", "opens_on_day", "opens_on_date", "closes_at", "date_md", "route_text",
    "no_navigation", "place_nearest_title", "place_searching", "place_not_found", "place_outside",
    "place_unavailable", "place_rate_limited", "place_marker",
    # an embed's full-screen button
    "fullscreen",
    # offline: how old the kept data is, and what the answer is made from
    "offline_banner", "offline_no_data", "offline_answer", "offline_remote",
)


def get_lang() -> str:
    """The language of this request: ``?lang=``, else the cookie, else ``DEFAULT_LANG``."""
    asked = request.args.get("lang", "")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGS:
        return cookie
    default = current_app.config.get("DEFAULT_LANG", "zh")
    return default if default in LANGS else "zh"


def translate(key: str, lang: str, **values: Any) -> str:
    """The text for ``key`` in ``lang``, its ``{placeholders}`` filled from ``values`` (the catalogue's)."""
    return catalogue.gettext(key, lang, **values)


def label(vocab: str, key: str | None, lang: str) -> str:
    """Label of a kind, amenity or status in ``lang``; the raw key if it is not in the vocabulary."""
    return catalogue.label(vocab, key, lang)


def both(key: str) -> str:
    """``key`` in both languages, ``"返回地图 / Back to the map"``: the error page shows both."""
    return " / ".join(translate(key, lang) for lang in LANGS)


def js_strings(lang: str) -> dict[str, str]:
    """The strings of ``JS_KEYS`` in ``lang``, for a page script's JSON."""
    return {key: translate(key, lang) for key in JS_KEYS}


def remember_lang(response):
    """``after_request``: keep an explicit ``?lang=`` choice in a cookie."""
    asked = request.args.get("lang", "")
    if asked in LANGS and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE_S, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response


# ---- Flask-Babel ---------------------------------------------------------------------------------

class CatalogueDomain(flask_babel.Domain):
    """Flask-Babel's message domain, answering from ``stations.i18n``'s catalogue compiled in memory
    (instead of ``.mo`` files in a translations folder)."""

    def get_translations(self) -> Translations:
        locale = flask_babel.get_locale()
        return catalogue.translations(locale.language if locale is not None else catalogue.DEFAULT_LANG)


class CatalogueBabel(flask_babel.Babel):
    """Flask-Babel with :class:`CatalogueDomain` as the app's default domain."""

    @property
    def domain_instance(self) -> CatalogueDomain:
        return _DOMAIN


_DOMAIN = CatalogueDomain()


def _request_lang() -> str:
    return get_lang() if has_request_context() else current_app.config.get("DEFAULT_LANG", catalogue.DEFAULT_LANG)


def _jinja_gettext(key: str, **values: Any) -> str:
    """Templates' ``_(key, **values)`` and ``gettext(...)``: the same as ``t()``."""
    return translate(key, _request_lang(), **values)


def _jinja_ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    values.setdefault("num", n)
    return translate(singular if n == 1 else plural, _request_lang(), **values)


def register(app: Flask) -> None:
    """Flask-Babel on ``app``: locale = :func:`get_lang`, translations = the catalogue; Jinja's
    ``_()``/``gettext()`` take keys and ``{placeholders}``, as ``t()`` does."""
    CatalogueBabel(app, locale_selector=get_lang, default_locale=app.config.get("DEFAULT_LANG", "zh"),
                   default_timezone="Asia/Shanghai", default_domain=catalogue.DOMAIN)
    app.jinja_env.install_gettext_callables(_jinja_gettext, _jinja_ngettext, newstyle=False)
