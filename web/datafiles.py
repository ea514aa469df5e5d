"""The data files a start needs: the station store created on first start, both files checked.

The live station store is writable and lives in the instance folder (``STATIONS_PATH`` defaults to
``<INSTANCE_PATH>/stations.geojson``), never inside the installed package: on the first start it is
copied from the bundled sample ``geodata/stations.geojson``. The county outlines are read in place
from the package (``COUNTIES_PATH`` defaults to the bundled file). A path that was set but names no
readable file stops the start with a :class:`~web.settings.SettingError` naming it: a mistyped path
must not serve an empty site. The check is cheap (exists, is a file, readable); the store validates
the content when it reads it.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile

from .settings import STATIONS_FILE, Resolved, SettingError

log = logging.getLogger(__name__)

ALLOWED_FILE = "an existing, readable file"


def prepare(resolved: Resolved) -> None:
    """Create the default station store from the bundled sample if it is missing; check both data files."""
    stations = resolved["STATIONS_PATH"]
    if resolved.origins["STATIONS_PATH"] == "default" and not os.path.lexists(stations):
        copy_sample(stations)
    for name in ("STATIONS_PATH", "COUNTIES_PATH"):
        check_readable_file(name, resolved[name], resolved.origins[name])
    water = resolved["WATER_MASK_PATH"]
    if water is not None:  # a mask that cannot be read stops the start, not every analysis
        if resolved.origins["WATER_MASK_PATH"] != "default":
            check_readable_file("WATER_MASK_PATH", water, resolved.origins["WATER_MASK_PATH"])
        check_water_mask(water, resolved.origins["WATER_MASK_PATH"])
    store = resolved["STORE_URL"]
    if resolved.origins["STORE_URL"] != "default" and os.path.isabs(store):  # another file store; a URL is not
        check_readable_file("STORE_URL", store, resolved.origins["STORE_URL"])


def check_water_mask(path: str, origin: str) -> None:
    """Read the water mask once (``stations.water.load_water``); a :class:`SettingError` saying why it cannot be used."""
    from stations.errors import ValidationError
    from stations.water import WATER_SUFFIXES, load_water

    try:
        load_water(path)
    except ValidationError as exc:
        where = "from the environment variable YIZHAN_WATER_MASK_PATH" if origin == "environment" else ""
        raise SettingError("WATER_MASK_PATH", path, "a polygon layer: " + ", ".join(WATER_SUFFIXES), where,
                           problem=f"cannot be used ({exc})") from None


def copy_sample(path: str) -> None:
    """Copy the bundled sample stations to ``path`` (its folder created), unless a file appeared there meanwhile."""
    import geodata

    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, open(geodata.bundled_file(STATIONS_FILE), "rb") as src:
            shutil.copyfileobj(src, out)
        try:
            os.link(tmp, path)  # fails if another process created the store first: keep theirs
        except FileExistsError:
            return
        except OSError:  # no hard links on this file system
            if os.path.lexists(path):
                return
            os.replace(tmp, path)
            tmp = ""
    finally:
        if tmp:
            os.unlink(tmp)
    log.warning("created the station store %s from the bundled sample data (示例数据)", path)


def check_readable_file(name: str, path: str, origin: str = "") -> None:
    """:class:`SettingError` unless ``path`` is an existing regular file this process may read."""
    where = {"environment": f"from the environment variable YIZHAN_{name}", "default": "the default"}.get(origin, "")
    if not os.path.exists(path):
        raise SettingError(name, path, ALLOWED_FILE, where, problem="does not exist")
    if not os.path.isfile(path):
        raise SettingError(name, path, ALLOWED_FILE, where, problem="is not a file")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise SettingError(name, path, ALLOWED_FILE, where,
                           problem=f"cannot be read ({exc.strerror or exc})") from None
