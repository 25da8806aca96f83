"""Which geocoder places the map's addresses: the setting `DIRECTORY_GEOCODER`.

`reference` (the default) is the offline reference geocoder shipped with the code. A
platform with a real address service (e.g. the Flemish Adressenregister) installs a
package in the image that implements `directory.domain.geo.Geocoder` and names its
factory, `package.module:factory`: a callable that takes no argument and returns the
geocoder. It is imported once, when the directory starts, so a wrong name stops the
start with a message saying what to fix rather than failing the first search.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from directory.adapters.reference_geocoder import ReferenceGeocoder
from directory.domain.geo import Geocoder

REFERENCE = "reference"
SETTING = "DIRECTORY_GEOCODER"


class UnknownGeocoder(ValueError):
    """`DIRECTORY_GEOCODER` names nothing the directory can start with."""


def geocoder_named(name: str) -> Geocoder:
    """The geocoder `name` chooses: `reference`, or the factory `package.module:factory`."""
    if name == REFERENCE:
        return ReferenceGeocoder()
    module_name, _, factory_name = name.partition(":")
    if not module_name or not factory_name:
        raise UnknownGeocoder(
            f"{SETTING}={name!r}: give {REFERENCE!r} or a factory as 'package.module:factory'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UnknownGeocoder(
            f"{SETTING}={name!r}: module {module_name!r} cannot be imported ({error}); "
            "install its package in the image, or set it back to 'reference'"
        ) from error
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UnknownGeocoder(f"{SETTING}={name!r}: {module_name} has no callable {factory_name!r}")
    geocoder = cast(Callable[[], object], factory)()
    missing = [m for m in ("locate", "place") if not callable(getattr(geocoder, m, None))]
    if missing:
        raise UnknownGeocoder(
            f"{SETTING}={name!r}: what {factory_name}() returned has no "
            f"{' or '.join(missing)}; it must implement directory.domain.geo.Geocoder"
        )
    return cast(Geocoder, geocoder)
