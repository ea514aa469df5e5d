"""The planner's parameters, declared in the request layer: one model for the analysis, shared by the
page, its downloads and ``/api/coverage``.

The radius is checked as given (100 to 20,000 m), then rounded to a multiple of ``RADIUS_STEP_M``
(1234 -> 1200 with the default 100 m): one analysis, one cache entry and one ETag per step. The most
new sites is ``COVERAGE_MAX_NEW_SITES``; both settings are read from the running app at request time.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo

from stations.coverage import COVERING_KINDS, KIND_CHOICES, MAX_NEW_SITES, RADIUS_RANGE_M, WATER_PRESET, covering_kinds
from stations.errors import ValidationError

from ..limits import snap_radius_m
from ..requests import fields
from ..requests.queries import COUNTY_DOC, County, Lang, LANG_DOC, YesNo
from ..requests.layer import QueryModel

DEFAULT_RADIUS_M = 1000.0
RADIUS_PRESETS_M = (500, 1000, 2000, 3000)


def _snap(radius_m: float, info: ValidationInfo) -> float:
    step = info.context.limits.radius_step_m if info.context is not None else 1.0
    return snap_radius_m(radius_m, step)


Radius = Annotated[fields.decimal(*RADIUS_RANGE_M, what="a radius in metres"), AfterValidator(_snap)]


def _covering(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds in the vocabulary's order (one analysis per set, however it was written); ``water`` alone."""
    try:
        return covering_kinds(kinds or None)
    except ValidationError as exc:
        problem = exc.problems[0]
        raise fields.Invalid("cannot be combined" if WATER_PRESET in kinds else "is unknown", ",".join(kinds),
                             problem.allowed) from None


Kinds = Annotated[fields.choices(KIND_CHOICES), AfterValidator(_covering)]
KINDS_DOC = ("The kinds of site that count towards coverage (repeat the parameter or separate with commas): "
             "default `rest_station` only; any of " + ", ".join(f"`{k}`" for k in KIND_CHOICES if k != WATER_PRESET)
             + "; or `water` alone: every site, of any kind, that offers drinking water (`drinking_water`). "
             "The answer's `kinds` says which were used.")
NewSites = fields.whole(0, fields.FromSettings("max_new_sites", MAX_NEW_SITES))


class CoverageQuery(QueryModel):
    """One coverage analysis: ``GET /api/coverage`` (and the base of the page's and the gaps' models)."""

    radius_m: Radius = Field(DEFAULT_RADIUS_M, validate_default=True,  # the default is rounded too
                             description="Service radius, geodesic metres (100 to 20,000), rounded to the nearest "
                                         "multiple of {radius_step_m} m (halves up); the answer's `radius_m` is "
                                         "the rounded value.")
    county: County = Field(None, description="One county only. " + COUNTY_DOC)
    new_sites: NewSites = Field(0, description="Suggest this many new sites (maximal covering, existing stations "
                                               "kept); at most {max_new_sites}.")
    include_planned: YesNo = Field(False, description="Also count stations under construction and planned.")
    kinds: Kinds = Field(COVERING_KINDS, validate_default=True, description=KINDS_DOC)

    @property
    def radius_str(self) -> str:
        """The (rounded) radius as written into links, the form and file names."""
        return f"{self.radius_m:.10g}"

    @property
    def key(self) -> tuple:
        """The analysis these parameters ask for (a cache key)."""
        return (self.radius_m, self.new_sites, self.include_planned, self.county, self.kinds)

    def query(self, **extra: Any) -> dict[str, Any]:
        """URL parameters that reproduce this analysis (defaults left out)."""
        out: dict[str, Any] = {"radius_m": self.radius_str}
        if self.new_sites:
            out["new_sites"] = self.new_sites
        if self.include_planned:
            out["include_planned"] = 1
        if self.county:
            out["county"] = self.county
        if self.kinds != COVERING_KINDS:
            out["kinds"] = ",".join(self.kinds)
        out.update(extra)
        return out

    def file_stem(self) -> str:
        """The downloads' file name without its extension."""
        return (f"yizhan-coverage-{self.radius_str}m" + (f"-{self.county}" if self.county else "")
                + (f"-new{self.new_sites}" if self.new_sites else "") + ("-planned" if self.include_planned else "")
                + ("" if self.kinds == COVERING_KINDS else "-" + "-".join(self.kinds)))


class GapsQuery(CoverageQuery):
    """``GET /api/coverage/gaps``."""

    after: YesNo = Field(False, description="With new_sites: the gaps left once the suggested sites are built.")


class PlanningQuery(CoverageQuery):
    """``/planning`` and its downloads (a page: also the language)."""

    lang: Lang = Field(None, description=LANG_DOC)
