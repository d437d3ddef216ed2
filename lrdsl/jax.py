"""``lrdsl.jax``: the public import path of :mod:`lrdsl.emit.jax`."""

from .emit.jax import *  # noqa: F403
from .emit.jax import __all__  # noqa: F401
