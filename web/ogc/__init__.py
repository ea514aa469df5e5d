"""OGC API - Features, Part 1: Core (GeoJSON and HTML) under ``/ogc``, over the stations and the counties.

Implemented on the site's own request layer rather than by mounting pygeoapi: pygeoapi reads its
configuration and OpenAPI document from files named by environment variables when it is imported
(one global configuration per process, against ``create_app``'s per-app settings), builds links from
a fixed ``server.url`` rather than ``PUBLIC_URL`` or the request, and renders HTML that loads
Leaflet and Bootstrap from CDNs with inline scripts, which the Content-Security-Policy (and the site's
no-CDN rule) refuses. The Core is six resources: ``routes`` (views), ``documents`` (the JSON
documents, also what the HTML pages render), ``collections`` (stations and counties over the
domain's store and outlines), ``queries`` (parameters).
"""
from .routes import bp

__all__ = ["bp"]
