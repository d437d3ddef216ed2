"""``lrdsl.jax``: the public import path of :mod:`lrdsl.emit.jax` (E0802 without jax)."""

from .emit import emitter as _emitter

_emitter("jax")  # a clear LrdslError (E0802, what to install) instead of a bare ModuleNotFoundError

from .emit.jax import *  # noqa: E402, F403
from .emit.jax import __all__  # noqa: E402, F401
