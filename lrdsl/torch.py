"""``lrdsl.torch``: the public import path of :mod:`lrdsl.emit.torch`."""

from .emit.torch import *  # noqa: F403
from .emit.torch import __all__  # noqa: F401
