"""Who may do what: the roles, and the guarded station writes every page and API route goes through.

Roles (``web.db.models.ROLES``):

- ``admin``: every county; deletes stations; manages accounts (the command line).
- ``editor``: the stations of their counties (one or more): add, change, revert, handle reports.
- ``viewer``: sees the staff pages; changes nothing.

A station's county is its ``county_code`` as stored, derived from its position by the store. A
change is allowed only if the account may edit the county before the change **and** the county
after it, where "after" is what the store itself will derive: the candidate record is validated
here, from the record at the version the write is pinned to, with the app's county outlines
(``stations.store.validated``), and the write then passes that version as ``expected_version``,
so a record changed meanwhile is refused by the store (412) instead of being written unchecked. A
station outside every county (no ``county_code``) is the admin's alone.

The helpers for views (the staff pages, the API):

- :func:`can_edit(account, station) <can_edit>` -> bool; :func:`require_county(account, code) <require_county>`
  raises :class:`NotAllowed` (403); :func:`editable_counties(account) <editable_counties>` and
  :func:`visible_counties` -> the county codes; :func:`require_editor`, :func:`require_admin`.
- :func:`add_station`, :func:`edit_station`, :func:`delete_station`, :func:`revert_change`: the
  checks above, then the store's write with ``who`` = the account's name (the journal's).
  Views never call ``store.add/update/delete/revert`` themselves.
"""
from __future__ import annotations

from typing import Any, Mapping

from stations.errors import YizhanError
from stations.model import Station
from stations.store import StationStore, apply_changes, record_version, validated
from stations.store.records import as_feature, check_record_version, field_value, id_prefix

from .accounts import Account


class NotAllowed(YizhanError):
    """The account may not do this (HTTP 403); the message says what it may do."""

    http_status = 403


def _site(counties=None, store: StationStore | None = None):
    """(counties, store): those given, else the running app's."""
    if counties is None or store is None:
        from .state import state
        current = state()
        counties = current.counties if counties is None else counties
        store = current.store if store is None else store
    return counties, store


def _all_codes(counties=None) -> frozenset[str]:
    if counties is None:
        from .state import state
        counties = state().counties
    return frozenset(counties.codes)


def editable_counties(account: Account | None, counties=None) -> frozenset[str]:
    """The county codes whose stations ``account`` may change (an admin: every county of the site)."""
    if account is None or account.role == "viewer":
        return frozenset()
    if account.is_admin:
        return _all_codes(counties)
    return frozenset(account.counties)


def visible_counties(account: Account | None, counties=None) -> frozenset[str]:
    """The counties the staff pages show ``account`` first: its own, or every county (admins, and
    viewers given none). Staff pages are for signed-in accounts only."""
    if account is None:
        return frozenset()
    if account.is_admin or not account.counties:
        return _all_codes(counties)
    return frozenset(account.counties)


def can_edit_county(account: Account | None, county_code: str | None) -> bool:
    if account is None or account.role == "viewer":
        return False
    if account.is_admin:
        return True
    return county_code is not None and county_code in account.counties


def can_edit(account: Account | None, station: Station) -> bool:
    """Whether ``account`` may change ``station`` as it is (a move still checks the county after it)."""
    return can_edit_county(account, station.county_code)


def require_editor(account: Account | None) -> Account:
    """The account, if it may change stations at all (admin or editor); else :class:`NotAllowed`."""
    if account is None:
        raise NotAllowed("sign in first")
    if account.role not in ("admin", "editor"):
        raise NotAllowed(f"{account.name} is a {account.role}: viewers change nothing")
    return account


def require_admin(account: Account | None) -> Account:
    if account is None or not account.is_admin:
        raise NotAllowed("only an admin may do this" + (f"; {account.name} is a {account.role}" if account else ""))
    return account


def require_county(account: Account | None, county_code: str | None) -> None:
    """:class:`NotAllowed` unless ``account`` may change the stations of ``county_code`` (``None``: a
    station outside every county, the admin's alone)."""
    require_editor(account)
    if not can_edit_county(account, county_code):
        where = f"county {county_code}" if county_code else "no county (outside every county outline)"
        mine = ", ".join(sorted(account.counties)) or "none"
        raise NotAllowed(f"{account.name} may not change stations in {where}; their counties: {mine}")


# ---- guarded writes ----------------------------------------------------------------------------

def add_station(account: Account, feature: Station | Mapping[str, Any], *, note: str | None = None,
                counties=None, store: StationStore | None = None) -> Station:
    """Add a station (a GeoJSON Feature) if its county, derived from its position, is the account's."""
    counties, store = _site(counties, store)
    require_editor(account)
    draft = as_feature(feature)
    if not draft["properties"].get("id"):  # the store numbers it; any valid id will do for the check
        draft["properties"]["id"] = id_prefix(draft["properties"].get("kind"), None) + "0000"
    candidate = validated(draft, counties)  # InvalidRecord (422) listing every problem
    require_county(account, candidate.county_code)
    return store.add(feature, who=account.name, note=note)


def edit_station(account: Account, station_id: str, changes: Mapping[str, Any], *,
                 expected_version: str | None = None, note: str | None = None, counties=None,
                 store: StationStore | None = None) -> Station:
    """Change a station (``store.update``'s ``changes``) if the account may edit its county before and after.

    ``expected_version``: the version the change is based on (a stale one: ``StaleVersion``, 412). The
    write is always pinned to the version the checks were made on.
    """
    counties, store = _site(counties, store)
    require_editor(account)
    before = store.get(station_id)  # NotFound (404)
    check_record_version(before, expected_version)
    require_county(account, before.county_code)
    candidate = validated(apply_changes(before, changes), counties)  # the county the store will derive
    if candidate.county_code != before.county_code:
        require_county(account, candidate.county_code)
    return store.update(station_id, changes, who=account.name, expected_version=record_version(before), note=note)


def delete_station(account: Account, station_id: str, *, expected_version: str | None = None,
                   note: str | None = None, store: StationStore | None = None) -> Station:
    """Delete a station: admins only (a station that closes gets ``status: closed`` instead)."""
    store = store if store is not None else _site()[1]
    require_admin(account)
    return store.delete(station_id, who=account.name, expected_version=expected_version, note=note)


def revert_change(account: Account, entry_id: int, *, note: str | None = None, counties=None,
                  store: StationStore | None = None) -> Station | None:
    """Undo journal entry ``entry_id`` (``store.revert``) if the account may edit the station's county
    now, the county it had before that change and the one it had after it. An import is reverted as a
    whole by an admin, or by an editor of every county of every station it touched (before, after and
    now); a whole-store replacement by admins only. (The revert itself is not pinned to a version:
    a station moved by someone else between these checks and the revert keeps that move, and a
    revert of a move then fails with ``Conflict``.)"""
    counties, store = _site(counties, store)
    require_editor(account)
    entry = store.journal_entry(entry_id)  # NotFound (404)
    if entry.action == "import" and not account.is_admin:
        for code in sorted(import_counties(entry, store), key=lambda c: c or ""):
            require_county(account, code)
        return store.revert(entry_id, who=account.name, note=note)
    if entry.station_id is None or entry.action not in ("add", "update", "delete"):
        require_admin(account)
        return store.revert(entry_id, who=account.name, note=note)
    for feature in (entry.before, entry.after):
        if feature is not None:
            require_county(account, field_value(feature, "county_code"))
    try:
        current = store.get(entry.station_id)
    except YizhanError:
        current = None
    if current is not None:
        require_county(account, current.county_code)
    return store.revert(entry_id, who=account.name, note=note)


def import_counties(entry, store: StationStore) -> set[str | None]:
    """The counties of every station an ``import`` journal entry touched: before it, after it, and now
    (``None`` for a station outside every county)."""
    found: set[str | None] = set()
    for collection in (entry.before, entry.after):
        for feature in (collection or {}).get("features", ()):
            found.add(field_value(feature, "county_code"))
    for station_id in entry.changed:
        try:
            found.add(store.get(station_id).county_code)
        except YizhanError:  # removed since (or by the import): its counties are those above
            pass
    return found


def can_revert_import(account: Account | None, entry, store: StationStore | None = None) -> bool:
    """Whether :func:`revert_change` would let ``account`` revert the ``import`` ``entry`` (a page's button)."""
    if account is None or account.role == "viewer":
        return False
    if account.is_admin:
        return True
    store = store if store is not None else _site()[1]
    return all(can_edit_county(account, code) for code in import_counties(entry, store))


__all__ = ["NotAllowed", "add_station", "can_edit", "can_edit_county", "can_revert_import", "delete_station",
           "edit_station", "editable_counties", "import_counties", "require_admin", "require_county", "require_editor",
           "revert_change", "visible_counties"]
