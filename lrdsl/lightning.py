"""``lrdsl.lightning``: the public import path of :mod:`lrdsl.emit.lightning` (E0802 without lightning)."""

from .emit import emitter as _emitter

_emitter("lightning")  # a clear LrdslError (E0802, what to install) instead of a bare ModuleNotFoundError

from .emit.lightning import *  # noqa: E402, F403
from .emit.lightning import __all__  # noqa: E402, F401
