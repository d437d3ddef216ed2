"""``lrdsl.keras``: the public import path of :mod:`lrdsl.emit.keras`."""

from .emit.keras import *  # noqa: F403
from .emit.keras import __all__  # noqa: F401
