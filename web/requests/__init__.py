"""The request layer: every page and API parameter (and, later, every request body) parsed by one set
of declared models, and the declarations the OpenAPI document is generated from.

- ``fields``: the parameter types and their strict rules (numbers, yes/no, lists, counties, ...);
  ``ParameterError`` (400) naming the parameter, quoting the value and saying what is allowed.
- ``layer``: ``QueryModel``, the route declaration (``api.route`` / ``pages.route``: parameters,
  answers, work class), the spectree integration.
- ``answers``: documented answers and the registry of response body schemas.
- ``queries``: the models of the station API and the station pages.
- ``lookups``: the models of the place search, the walking routes and the map's markers.

The planner's model is ``web.planning.parameters``, built from the same types.
"""
from .answers import GEOJSON, JSON, Answer, error, ref, schema
from .fields import ParameterError
from .layer import (ANALYSIS, CHEAP, LOOKUP, Endpoint, QueryModel, RequestLayer, Work, api, current_endpoint,
                    declared_endpoints, endpoint_of, pages)

__all__ = ["ANALYSIS", "CHEAP", "GEOJSON", "JSON", "LOOKUP", "Answer", "Endpoint", "ParameterError", "QueryModel",
           "RequestLayer", "Work", "api", "current_endpoint", "declared_endpoints", "endpoint_of", "error",
           "pages", "ref", "schema"]
