"""The site's geocoder, built from its settings (``GEOCODER``, the providers' keys, ``GEOCODER_*``).

Shared by the command line (``yizhan import``) and the site (the staff's "look up this address",
the map's place search, the planner's nearest address): the key stays on the server.
"""
from __future__ import annotations

from typing import Any, Mapping

from stations.geocoding import GeocodingService, choose_provider, make_geocoding

from .settings import SettingError

KEY_SETTINGS = {"tianditu": "TIANDITU_SERVER_KEY", "amap": "AMAP_KEY", "baidu": "BAIDU_KEY"}


def geocoding_service(config: Mapping[str, Any], provider: str | None = None) -> GeocodingService | None:
    """The geocoding service the settings name (``provider`` overrides ``GEOCODER``); None for ``none``.

    ``auto`` takes the first provider with a key (Tianditu, AMap, Baidu), else Nominatim. A provider
    named without its key: :class:`SettingError` naming the key's setting.
    """
    keys = {name: config.get(setting) or None for name, setting in KEY_SETTINGS.items()}
    name, key = choose_provider(provider or config["GEOCODER"], keys)
    if name == "none":
        return None
    if name in KEY_SETTINGS and not key:
        raise SettingError(KEY_SETTINGS[name], "", f"the {name} key", problem=f"is empty: the {name} geocoder needs it")
    site = config.get("PUBLIC_URL") or "station map"
    return make_geocoding(name, key, cache_path=config["GEOCODER_CACHE_PATH"], min_delay_s=config["GEOCODER_MIN_DELAY_S"],
                          timeout_s=config["GEOCODER_TIMEOUT_S"], base_url=config.get("GEOCODER_URL"),
                          user_agent=f"yizhan ({site})")
