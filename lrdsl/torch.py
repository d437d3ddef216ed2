"""``lrdsl.torch``: the public import path of :mod:`lrdsl.emit.torch` (E0802 without torch)."""

from .emit import emitter as _emitter

_emitter("torch")  # a clear LrdslError (E0802, what to install) instead of a bare ModuleNotFoundError

from .emit.torch import *  # noqa: E402, F403
from .emit.torch import __all__  # noqa: E402, F401
