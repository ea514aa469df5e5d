"""What every HTML page shares: template globals, JSON for page scripts, the after-request finish.

Each page blueprint installs these (``bp.context_processor``, ``bp.after_request``) rather than
borrowing another blueprint's.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request, url_for
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from stations.model import AMENITIES, KINDS, STATUSES

from . import ago, assets, i18n


def page_globals() -> dict[str, Any]:
    """``lang``, ``t()`` (the catalogue's strings in this request's language), ``label()``, the language
    switch (same page, same parameters, other language), the city, ``asset()`` and the vocabularies."""
    lang = i18n.get_lang()
    args = request.args.to_dict(flat=False)
    args["lang"] = ["en" if lang == "zh" else "zh"]
    here = url_for(request.endpoint, **(request.view_args or {})) if request.endpoint else "/"
    return {
        "lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "t": lambda key, **kw: i18n.translate(key, lang, **kw),
        "label": lambda vocab, key: i18n.label(vocab, key, lang),
        "switch_url": here + "?" + urlencode(args, doseq=True),  # same page, other language
        "city": current_app.config.get("CITY_NAME", ""),
        "asset": lambda rel: assets.static_path(rel, current_app.static_url_path or "/static"),
        "KINDS": KINDS, "STATUSES": STATUSES, "AMENITIES": AMENITIES,
        "verified_ago": lambda day: ago.verified_text(day, lang),  # "3 天前核实"
    }


def finish_html(response: Response) -> Response:
    """``after_request`` of every page blueprint: remember the language, vary HTML on the cookie, gzip."""
    response = i18n.remember_lang(response)
    if response.mimetype == "text/html":
        response.vary.add("Cookie")
    return assets.gzip_response(response)


def page_json(data: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>``, ``&``, ``'`` escaped."""
    return Markup(htmlsafe_json_dumps(data, dumps=json.dumps, ensure_ascii=False, separators=(",", ":")))
