"""The request layer's machinery: query models, route declarations, errors, the spectree integration.

A route declares itself once, next to its view::

    @bp.get("/nearest")
    @api.route(query=NearestQuery, answers={200: Answer(...)}, operation_id="nearest", tags=("stations",))
    def nearest(query: NearestQuery) -> Response: ...

- ``query`` is a :class:`QueryModel` (pydantic v2) built from the parameter types of
  ``web.requests.fields``; the view gets the parsed instance as its ``query`` argument.
- ``work`` (:data:`CHEAP`, :data:`ANALYSIS` or :data:`LOOKUP`) bounds what one request may cost:
  ``web.limits`` rate-limits the endpoints declared :data:`ANALYSIS`, and an analysis waits at most
  that class's time budget (``COVERAGE_TIME_BUDGET_S``) before answering 503; a :data:`LOOKUP` asks
  an outside service only within the client's ``LOOKUP_RATE_LIMIT`` (``web.lookups``).
- ``answers``, ``conditional``, ``operation_id``, ``tags`` and the view's docstring (summary, blank
  line, description) document the route; ``web.openapi`` generates ``/api/openapi.json`` from them.

- ``json`` (a :class:`~web.requests.bodies.BodyModel`: a JSON document, e.g. a GeoJSON Feature or a
  JSON merge patch) or ``form`` (a :class:`QueryModel` read from an HTML form's fields, uploaded files
  included: ``fields.upload``): the request body, parsed by the same plugin and given to the view as
  ``body`` (``json``) or ``form``.
- ``access`` (an :class:`Access`): who may call the route, checked before any parameter or body is
  parsed (an unauthenticated write is a 401, whatever its body); documented as the operation's
  ``security`` with its answers (401, 403).

A bad parameter raises :class:`~web.requests.fields.ParameterError` (a
``stations.errors.ValidationError``, HTTP 400) naming every bad parameter; ``web.errors`` answers it
as JSON under /api and as an HTML page elsewhere. A bad body is the same error naming the body's
field (``properties.name``) with ``body`` or ``form`` as the problem's record; a body of another
media type is a 415, one over :data:`~web.requests.bodies.MAX_BODY_BYTES` a 413. spectree (3.x)
generates the operations (paths, parameters from the models' JSON Schema, operationId, summary,
tags); request parsing is this module's own plugin (:class:`_Plugin`), which parses the query
string with the empty-value and repeat rules, validates with the model in a validation context
(:class:`RequestContext`: the running app's counties and limits) and raises our error instead of
spectree's 422 JSON.

Two :class:`RequestLayer` instances share these rules: ``api`` (the JSON API, whose declarations are
the OpenAPI document) and ``pages`` (HTML pages: the same models, never in the API document).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

from flask import request
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import GenerateJsonSchema
from spectree import SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin

from stations.errors import Problem, quote_value

from .answers import ERROR, RETRY_AFTER, Answer
from .fields import Allowed, FileField, Invalid, ParameterError, Repeatable

log = logging.getLogger(__name__)


# ---- validation context ----------------------------------------------------------------------------

class RequestContext:
    """What a parameter type may need from the running app, looked up only when asked for."""

    __slots__ = ()

    @property
    def counties(self):
        from web.state import state  # imported here: the request layer is imported by web.state's users
        return state().counties

    @property
    def limits(self):
        from web.limits import current_limits
        return current_limits()


# ---- query models ----------------------------------------------------------------------------------

class _ParameterSchema(GenerateJsonSchema):
    """JSON Schema of a query model for the OpenAPI document: no titles, no ``default: null``, and a
    parameter type's own ``default`` (a yes/no's ``"0"``) kept over the Python default (``False``)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def default_schema(self, schema):
        inner = self.generate_inner(schema["schema"])
        if "default" in inner or schema.get("default", ...) is None:
            return inner
        return super().default_schema(schema)


class QueryModel(BaseModel):
    """A query string as a model: one field per parameter, named as the parameter.

    Unknown parameters are ignored (cache busters, analytics tags); an empty value counts as absent
    (``kind=`` is what an HTML form sends for "any"); a :class:`Repeatable` field gets every value
    as a list, any other field a list only when it was given more than once (which its type refuses).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    #: the parameters (field names), those taking several values, and a form's uploaded files; set per subclass
    parameter_names: ClassVar[frozenset[str]] = frozenset()
    repeatable: ClassVar[frozenset[str]] = frozenset()
    file_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.parameter_names = frozenset(cls.model_fields)
        cls.repeatable = frozenset(name for name, info in cls.model_fields.items()
                                   if any(isinstance(m, Repeatable) for m in info.metadata))
        cls.file_fields = frozenset(name for name, info in cls.model_fields.items()
                                    if any(isinstance(m, FileField) for m in info.metadata))

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("schema_generator", _ParameterSchema)
        return super().model_json_schema(*args, **kwargs)

    @classmethod
    def from_args(cls, args, context: Any = None, where: str = "query", files=None):
        """Parse a werkzeug ``MultiDict`` (``request.args``, or ``request.form`` with ``where="form"``);
        a bad parameter raises ``ParameterError``. ``files`` (``request.files``) fills the file fields
        (``fields.upload``): a file input left empty counts as absent."""
        data: dict[str, Any] = {}
        names = cls.parameter_names - cls.file_fields
        for name in args:  # each name once
            if name not in names:
                continue
            values = [v for v in args.getlist(name) if v.strip()]
            if values:
                data[name] = values if len(values) > 1 or name in cls.repeatable else values[0]
        for name in cls.file_fields if files is not None else ():
            uploads = [f for f in files.getlist(name) if (f.filename or "").strip()]
            if uploads:
                data[name] = uploads if len(uploads) > 1 else uploads[0]
        try:
            return cls.model_validate(data, context=context if context is not None else RequestContext())
        except PydanticValidationError as exc:
            raise cls.parameter_error(exc, args, where) from None

    @classmethod
    def allowed(cls, name: str) -> str:
        info = cls.model_fields.get(name)
        texts = [m.text for m in info.metadata if isinstance(m, Allowed)] if info is not None else []
        return texts[0] if texts else "see the API description"

    @classmethod
    def parameter_error(cls, exc: PydanticValidationError, args: Mapping[str, Any],
                        where: str = "query") -> ParameterError:
        """Every problem of ``exc`` as one :class:`ParameterError` (the first one is its headline)."""
        return problems_error(exc, args, where, cls.allowed)


def problems_error(exc: PydanticValidationError, given: Mapping[str, Any], where: str,
                   allowed: Callable[[str], str]) -> ParameterError:
    """Every problem of a model's ``exc`` as one :class:`ParameterError`: each names its field (a dotted
    path in a body: ``properties.name``), quotes the value and says what is allowed."""
    problems = []
    for err in exc.errors(include_url=False):
        name = ".".join(str(part) for part in err["loc"]) if err["loc"] else where
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, Invalid):
            name = cause.parameter or name
            problems.append(Problem(where, name, cause.value, cause.message(name)))
        elif err["type"] == "missing":
            raw = given.get(name) if hasattr(given, "get") else None
            what = "missing" if raw is None else "empty"
            problems.append(Problem(where, name, raw, f"{name} is required but {what}; allowed: {allowed(name)}"))
        elif err["type"] == "extra_forbidden":
            problems.append(Problem(where, name, err.get("input"), f"{name} is not a member of this {where}; "
                                                                   f"allowed: {allowed(where)}"))
        else:  # a type of ours lets every other failure through as Invalid: a safety net
            value = err.get("input")
            problems.append(Problem(where, name, value, f"{name}={quote_value(value)} is not allowed "
                                                        f"({err['msg']}); allowed: {allowed(name)}"))
    return ParameterError(problems)


# ---- what one request may cost --------------------------------------------------------------------

@dataclass(frozen=True)
class Work:
    """A class of work per request, declared per endpoint (``route(work=...)``).

    ``rate_limited``: ``web.limits`` counts the requests of these endpoints that start new work
    against the client's ``COVERAGE_RATE_LIMIT`` (429 beyond it). ``time_budget``: the ``Limits``
    attribute holding how long such a request waits for its work before answering 503.
    """

    name: str
    rate_limited: bool = False
    time_budget: str | None = None
    answers: Mapping[int, Answer] = field(default_factory=dict)

    def time_budget_s(self, limits) -> float | None:
        return None if self.time_budget is None else float(getattr(limits, self.time_budget))


#: answers from memory in milliseconds: never rate limited, no time budget
CHEAP = Work("cheap")
#: may start a coverage analysis (0.1 s to seconds of CPU): rate limited per client, time budget, 503
ANALYSIS = Work("analysis", rate_limited=True, time_budget="time_budget_s", answers={
    429: Answer("This client started too many analyses (`COVERAGE_RATE_LIMIT`, counted per client on the "
                "planner's endpoints; answers already computed do not count); `Retry-After` says when to "
                "ask again.", ERROR, headers=RETRY_AFTER),
    503: Answer("The analysis is being computed (it took longer than the time budget, "
                "`COVERAGE_TIME_BUDGET_S`) or the server is busy with other analyses; it goes on and is "
                "kept, so asking again after `Retry-After` seconds gets it.", ERROR, headers=RETRY_AFTER),
})

#: may ask an outside service (the geocoder, the walking router, seconds at worst): answers come from a
#: cache on disk when they can, and what a client asks counts against ``LOOKUP_RATE_LIMIT`` (``web.lookups``)
LOOKUP = Work("lookup")


# ---- who may call a route --------------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """Who may call a route (``route(access=...)``): ``check()`` runs before the route's parameters and
    body are parsed and raises (401, 403) when the caller may not; ``security`` is the OpenAPI
    security requirement (alternatives, each a mapping of scheme name -> scopes) and ``answers`` the
    refusals it documents."""

    name: str
    check: Callable[[], Any]
    security: tuple[Mapping[str, list[str]], ...] = ()
    answers: Mapping[int, Answer] = field(default_factory=dict)


# ---- declarations ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    """What a route declared: its parameters, answers, work class and documentation."""

    layer: "RequestLayer"
    query: type[QueryModel] | None
    answers: Mapping[int, Answer]
    work: Work
    conditional: bool
    operation_id: str | None
    tags: tuple[str, ...]
    path_examples: Mapping[str, Any] = field(default_factory=dict)
    json: type | None = None            # a web.requests.bodies.BodyModel: the JSON body
    form: type[QueryModel] | None = None  # an HTML form's fields
    access: Access | None = None
    parameters: tuple[Mapping[str, Any], ...] = ()  # documented parameters the view reads itself (headers)


ENDPOINT_ATTRIBUTE = "yizhan_endpoint"


def endpoint_of(view: Callable | None) -> Endpoint | None:
    """The declaration of a view function (through decorators that set ``__wrapped__``)."""
    while view is not None:
        declared = getattr(view, ENDPOINT_ATTRIBUTE, None)
        if declared is not None:
            return declared
        view = getattr(view, "__wrapped__", None)
    return None


def declared_endpoints(app) -> dict[str, Endpoint]:
    """Flask endpoint name -> declaration, for every declared view of ``app``."""
    out = {}
    for name, view in app.view_functions.items():
        declared = endpoint_of(view)
        if declared is not None:
            out[name] = declared
    return out


def current_endpoint() -> Endpoint | None:
    """The declaration of the view serving this request."""
    from flask import current_app
    return endpoint_of(current_app.view_functions.get(request.endpoint or ""))


class _Plugin(FlaskPlugin):
    """spectree's Flask plugin with our parsing: the query model from ``request.args``, our errors.

    spectree's own path (every header and cookie copied into dicts, the response body read back and
    re-wrapped, 422 JSON on errors) is not used: the view's answer is returned as it is.
    """

    def validate(self, func, query, json, form, headers, cookies, resp, before, after,
                 validation_error_status, skip_validation, force_resp_serialize, *args, **kwargs):
        declared = getattr(func, ENDPOINT_ATTRIBUTE, None)
        if declared is not None and declared.access is not None:
            declared.access.check()  # before anything of the request is parsed
        if query is not None:
            kwargs["query"] = query.from_args(request.args)
        if form is not None:
            kwargs["form"] = form.from_args(request.form, where="form", files=request.files)
        if json is not None:
            kwargs["body"] = json.from_request(request)
        return func(*args, **kwargs)


class RequestLayer:
    """Declared routes of one kind (the API, or the pages) and the OpenAPI operations of them."""

    def __init__(self, name: str, documented: bool):
        self.name = name
        self.documented = documented
        # strict: only the routes declared on this instance are part of its operations
        self.tree = SpecTree(backend=_Plugin, mode="strict", annotations=False, openapi_version="3.1.0")

    def route(self, *, query: type[QueryModel] | None = None, answers: Mapping[int, Answer] | None = None,
              work: Work = CHEAP, conditional: bool = False, operation_id: str | None = None,
              tags: tuple[str, ...] = (), path_parameters: Mapping[str, str] | None = None,
              path_examples: Mapping[str, Any] | None = None, json: type | None = None,
              form: type[QueryModel] | None = None, access: Access | None = None,
              parameters: tuple[Mapping[str, Any], ...] = ()) -> Callable:
        """Declare a view: its query model, body model, access, answers, work class and documentation
        (see the module doc).

        ``path_parameters`` describes the URL's variables (name -> description), ``path_examples``
        gives an example value of each; ``parameters`` documents what the view reads itself (e.g.
        the ``If-Match`` header) as OpenAPI parameter objects.
        """
        if self.documented and not operation_id:
            raise ValueError("an API route needs an operation_id (the OpenAPI document names operations)")
        if json is not None and form is not None:
            raise ValueError("a route takes a JSON body or a form, not both")
        declared = Endpoint(self, query, dict(answers or {}), work, conditional, operation_id, tuple(tags),
                            dict(path_examples or {}), json, form, access, tuple(parameters))

        def decorate(view: Callable) -> Callable:
            setattr(view, ENDPOINT_ATTRIBUTE, declared)  # the plugin finds the access check through it
            wrapped = self.tree.validate(query=query, json=json, form=form, tags=tags, operation_id=operation_id,
                                         path_parameter_descriptions=path_parameters)(view)
            setattr(wrapped, ENDPOINT_ATTRIBUTE, declared)
            return wrapped

        return decorate

    def operations(self) -> dict[str, Any]:
        """spectree's paths of the running app's routes declared here (call within an app context)."""
        return self.tree._generate_spec()["paths"]  # generated afresh: the app (routes) may differ per call


#: the JSON API: its declarations are /api/openapi.json
api = RequestLayer("api", documented=True)
#: HTML pages: the same parameter rules and models, not part of the API document
pages = RequestLayer("pages", documented=False)
