"""``lrdsl.keras``: the public import path of :mod:`lrdsl.emit.keras` (E0802 without keras)."""

from .emit import emitter as _emitter

_emitter("keras")  # a clear LrdslError (E0802, what to install) instead of a bare ModuleNotFoundError

from .emit.keras import *  # noqa: E402, F403
from .emit.keras import __all__  # noqa: E402, F401
