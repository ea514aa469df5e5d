"""The OGC API's two collections, over the site's own data: ``stations`` (the store) and ``counties``
(the county outlines). Each selects a page of GeoJSON features for a query, gets one by id, and knows
its spatial extent; the filtering itself is the domain's (``StationStore.query``, ``Counties.select``).
Positions are WGS-84 longitude/latitude (CRS84).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from stations.errors import NotFound

from ..state import state
from .queries import CountyItemsQuery, ItemsQuery, StationItemsQuery

WORLD = (-180.0, -90.0, 180.0, 90.0)


@dataclass(frozen=True)
class Selection:
    """One page of a collection's features: the features, all matches, the next page's offset."""

    features: list[dict[str, Any]]
    matched: int
    next_offset: int | None


class Collection:
    """A collection: its id, the query model of its items, the properties its HTML table shows."""

    id: str
    query: type[ItemsQuery]
    #: properties shown as columns of the HTML table (all are in the GeoJSON)
    columns: Sequence[str] = ()
    #: the catalogue's keys of its title and description (``ogc.<id>.title``, ``ogc.<id>.description``)

    def version(self) -> Any:
        """Changes whenever the features change (for ETags)."""
        raise NotImplementedError

    def select(self, query: ItemsQuery) -> Selection:
        raise NotImplementedError

    def feature(self, item_id: str) -> dict[str, Any]:
        """One feature; :class:`NotFound` (404) if there is none with this id."""
        raise NotImplementedError

    def bbox(self) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat) of every feature, WGS-84 degrees."""
        raise NotImplementedError

    def sample(self) -> bool:
        """Whether the collection holds sample data."""
        return False


class Stations(Collection):
    id = "stations"
    query = StationItemsQuery
    columns = ("name", "kind", "county_code", "address", "status", "opening_hours", "phone")

    def version(self) -> Any:
        return state().store.version

    def select(self, query: ItemsQuery) -> Selection:
        assert isinstance(query, StationItemsQuery)
        page = state().store.query(**query.store_query(), limit=query.limit, offset=query.offset)
        return Selection([s.to_feature() for s in page], page.total, page.next_offset)

    def feature(self, item_id: str) -> dict[str, Any]:
        return state().store.get(item_id).to_feature()

    def bbox(self) -> tuple[float, float, float, float]:
        st = state()

        def build() -> tuple[float, float, float, float]:
            stations = st.store.all()
            if not stations:
                return st.counties.bounds if len(st.counties) else WORLD
            lons = [s.lon for s in stations]
            lats = [s.lat for s in stations]
            return (min(lons), min(lats), max(lons), max(lats))

        return st.cached("ogc.stations.bbox", build)

    def sample(self) -> bool:
        st = state()
        return st.cached("ogc.stations.sample", lambda: any(s.sample for s in st.store.all()))


class Counties(Collection):
    id = "counties"
    query = CountyItemsQuery
    columns = ("adcode", "name", "area_km2", "population")

    def version(self) -> Any:
        return id(state().counties)  # read once per app, never changed

    def select(self, query: ItemsQuery) -> Selection:
        assert isinstance(query, CountyItemsQuery)
        counties = state().counties
        codes = counties.select(adcode=query.adcode, name=query.name, bbox=query.bbox)
        chosen = codes[query.offset:query.offset + query.limit]
        end = query.offset + len(chosen)
        features = [{**counties.to_feature(code), "id": code} for code in chosen]
        return Selection(features, len(codes), end if end < len(codes) else None)

    def feature(self, item_id: str) -> dict[str, Any]:
        counties = state().counties
        if item_id not in counties:
            raise NotFound(f"no county with adcode {item_id!r} in the collection counties")
        return {**counties.to_feature(item_id), "id": item_id}

    def bbox(self) -> tuple[float, float, float, float]:
        counties = state().counties
        return counties.bounds if len(counties) else WORLD


#: id -> collection, in the order /ogc/collections lists them
COLLECTIONS: dict[str, Collection] = {c.id: c for c in (Stations(), Counties())}
