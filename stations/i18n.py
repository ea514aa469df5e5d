"""The one catalogue of UI strings, in Chinese and English: gettext ``.po`` files read without Flask.

The catalogues are ``stations/locale/<lang>/LC_MESSAGES/messages.po`` (package data). A message id
is a key (``site_title``, ``kind.rest_station``, ``report.col.covered_share_pct``), not source
text; both catalogues hold every key, and placeholders are ``str.format`` names (``{n}``), the same
in both (``tests/test_catalogue.py``). Each catalogue is read once, with babel, and compiled in
memory (no ``.mo`` file is written or shipped): :func:`gettext` for the domain and the command line,
:func:`translations` for Flask-Babel (``web.i18n``).

Vocabulary keys live in ``stations.model`` (kinds, amenities, statuses); their labels are here,
as ``<vocabulary>.<key>``: :func:`label`, :func:`labels`, :func:`vocabulary_labels`.
"""
from __future__ import annotations

import io
import logging
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Mapping

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from .model import AMENITIES, KINDS, STATUSES

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"  # the fallback for a key missing from another language
DOMAIN = "messages"

#: vocabulary name -> its keys (``stations.model``); a label's key is ``<vocabulary>.<key>``
VOCABULARIES: dict[str, Iterable[str]] = {"kind": KINDS, "amenity": AMENITIES, "status": STATUSES}


def po_path(lang: str) -> Any:
    """The ``.po`` file of ``lang`` as a package resource (a ``Traversable``)."""
    _check_lang(lang)
    return resources.files(__package__).joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")


@lru_cache(maxsize=None)
def catalog(lang: str) -> Catalog:
    """The parsed ``.po`` catalogue of ``lang`` (babel ``Catalog``), read once."""
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@lru_cache(maxsize=None)
def messages(lang: str) -> Mapping[str, str]:
    """``{key: text}`` of ``lang``; entries without text, and fuzzy ones, are left out (as gettext does)."""
    return {m.id: m.string for m in catalog(lang) if m.id and m.string and not m.fuzzy}


@lru_cache(maxsize=None)
def translations(lang: str) -> Translations:
    """``lang``'s catalogue compiled in memory (``write_mo`` into a buffer) as babel ``Translations``,
    falling back to the default language's; what Flask-Babel serves (``web.i18n``)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog(lang))
    buffer.seek(0)
    compiled = Translations(fp=buffer, domain=DOMAIN)
    if lang != DEFAULT_LANG:
        compiled.add_fallback(translations(DEFAULT_LANG))
    return compiled


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue (of the default language)."""
    return key in messages(DEFAULT_LANG)


def gettext(key: str, lang: str, **values: Any) -> str:
    """The text of ``key`` in ``lang`` (``zh`` or ``en``), its ``{placeholders}`` filled from ``values``.

    A key missing from ``lang`` falls back to the default language, then to the key itself (logged).
    """
    _check_lang(lang)
    text = messages(lang).get(key)
    if text is None:
        text = messages(DEFAULT_LANG).get(key)
        if text is None:
            log.warning("no string %r in the catalogue", key)
            text = key
    return text.format(**values) if values else text


def label(vocab: str, key: str | None, lang: str) -> str:
    """Label of a kind, amenity or status (``vocab``: kind, amenity, status) in ``lang``; the raw key
    if it is not in the vocabulary, ``""`` for ``None``."""
    if key is None:
        return ""
    if vocab not in VOCABULARIES:
        raise ValueError(f"vocab must be one of {', '.join(VOCABULARIES)}; got {vocab!r}")
    if key not in VOCABULARIES[vocab]:
        return key
    return gettext(f"{vocab}.{key}", lang)


def labels(vocab: str, lang: str) -> dict[str, str]:
    """``{key: label}`` of a whole vocabulary in ``lang``, in the vocabulary's order."""
    return {key: label(vocab, key, lang) for key in VOCABULARIES[vocab]}


def vocabulary_labels(vocab: str) -> dict[str, dict[str, str]]:
    """``{key: {"zh": label, "en": label}}``: both languages at once (import aliases, API documents)."""
    return {key: {lang: label(vocab, key, lang) for lang in LANGS} for key in VOCABULARIES[vocab]}
