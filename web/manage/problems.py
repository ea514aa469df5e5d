"""A form's problems in words, next to their fields, in the page's language.

A problem is either a ``stations.errors.Problem`` of the record (the validator's: its ``allowed`` is
the precise rule, in English) or one of the form's own keys (``missing``, ``not_numbers``...). The
words come from the catalogue: ``manage.problem.<field>`` says what the field needs, the form's own
keys are ``manage.problem.<field>.<key>``; the validator's rule follows in brackets. A control character
in a text (``manage.problem.control``) is said as such, whatever the field. An
``opening_hours`` problem points at the faulty part (column and text) as the parser found it.
"""
from __future__ import annotations

from typing import Any, Mapping

from stations import hours
from stations.errors import Problem
from stations.validate import NO_CONTROLS

from ..i18n import translate


def opening_hours_text(text: str, lang: str) -> str | None:
    """"第 5 个字符 “x”：…" for an unreadable ``opening_hours`` text; None if it reads."""
    try:
        hours.parse_opening_hours(text)
    except hours.OpeningHoursError as exc:
        where = translate("manage.hours.error_at", lang, column=exc.column, token=exc.token) if exc.token \
            else translate("manage.hours.error_end", lang, column=exc.column)
        return f"{where} {exc.reason}"
    except (TypeError, ValueError):
        return None
    return None


def problem_text(name: str, problem: Any, values: Mapping[str, Any], lang: str) -> str:
    if isinstance(problem, str):
        return translate(f"manage.problem.{name}.{problem}", lang)
    if not isinstance(problem, Problem):
        return str(problem)
    if name == "opening_hours" and isinstance(values.get("opening_hours"), str):
        pointed = opening_hours_text(values["opening_hours"], lang)
        if pointed:
            return translate("manage.problem.opening_hours", lang) + " " + pointed
    if problem.allowed == NO_CONTROLS:
        return translate("manage.problem.control", lang)
    if name == "position" and str(problem.allowed).startswith("a point inside one of the counties"):
        return translate("manage.problem.position.outside", lang)
    return f"{translate('manage.problem.' + name, lang)} ({problem.allowed})"


def problem_texts(problems: Mapping[str, list[Any]], values: Mapping[str, Any], lang: str) -> dict[str, list[str]]:
    """form field -> the texts of its problems (each once, in order)."""
    out: dict[str, list[str]] = {}
    for name, items in problems.items():
        texts = out.setdefault(name, [])
        for problem in items:
            text = problem_text(name, problem, values, lang)
            if text not in texts:
                texts.append(text)
    return out
