"""What an import reports: one :class:`RowProblem` per problem, with its row as the spreadsheet shows it.

Each problem has a ``code`` (stable, for pages and tests), a ``severity`` (``error``: the row is
rejected; ``warning``: imported, but look at it; ``info``: for the record), the column as headed in the
file, the value, and parameters; :meth:`RowProblem.message` words it in Chinese or English from the
one catalogue of UI strings (``import.problem.<code>``, ``stations.i18n``).
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Any

from .. import i18n
from ..errors import QUOTE_MAX_CHARS, quote_value, shorten

SEVERITIES = ("error", "warning", "info")

#: the problem codes; each one's words are the catalogue's ``import.problem.<code>`` (``stations.i18n``), where
#: ``{value}`` is the quoted value and the other names come from ``params``
CODES: tuple[str, ...] = (
    "unreadable_file", "unknown_format", "unknown_encoding", "unknown_sheet", "no_header", "no_rows",
    "unknown_header", "ignored_header", "metadata_header", "duplicate_header", "missing_column",
    "missing_position_columns", "example_row", "required", "unknown_kind", "unknown_status", "unknown_amenity",
    "duplicate_amenity", "bad_hours", "bad_degrees", "half_position", "outside", "swapped", "swapped_fixed",
    "converted", "unknown_county", "county_mismatch", "no_position", "geocoding_off", "geocoded", "not_geocoded",
    "geocode_imprecise", "geocode_outside", "geocode_failed", "geocode_stopped", "bad_number", "bad_whole",
    "bad_date", "bad_bool", "duplicate_id", "duplicate_key", "ambiguous_match", "invalid", "county_not_allowed",
    "kept_rejected",
)


#: parameters that come from the vocabulary, not from the file: shown whole (the allowed values)
WHOLE_PARAMS = ("allowed",)


@dataclass(frozen=True)
class RowProblem:
    """One problem of an import: ``row`` as the spreadsheet shows it (``None``: the whole file),
    ``column`` as headed in the file, ``field`` the station field, the ``value`` as read."""

    code: str
    severity: str = "error"
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: Any = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.code, self.row, self.column, self.field))

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def message(self, lang: str = "zh") -> str:
        """The problem in words (``zh`` or ``en``), values quoted briefly."""
        values = {k: v if k in WHOLE_PARAMS or not isinstance(v, str) else shorten(v) for k, v in self.params.items()}
        return i18n.gettext(f"import.problem.{self.code}", lang,
                            value=quote_value(self.value, QUOTE_MAX_CHARS // 2), **values)

    def where(self, lang: str = "zh") -> str:
        """``第 5 行，经度`` / ``row 5, lon``; ``文件`` / ``file`` for the whole file."""
        place = (i18n.gettext("import.where.file", lang) if self.row is None
                 else i18n.gettext("import.where.row", lang, row=self.row))
        return i18n.gettext("import.where.column", lang, place=place, column=self.column) if self.column else place

    def text(self, lang: str = "zh") -> str:
        return i18n.gettext("import.problem_line", lang, where=self.where(lang), message=self.message(lang))

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON-ready: code, severity, row, column, field, value (cut when long), message."""
        value = self.value
        if isinstance(value, str) and len(value) > QUOTE_MAX_CHARS:
            value = value[:QUOTE_MAX_CHARS] + "…"
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = quote_value(value)
        return {"code": self.code, "severity": self.severity, "row": self.row, "column": self.column,
                "field": self.field, "value": value, "message": self.message(lang)}
