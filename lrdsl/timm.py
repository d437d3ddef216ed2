"""``lrdsl.timm``: the public import path of :mod:`lrdsl.emit.timm_adapter` (timm's
scheduler protocol; timm itself is not needed, torch is)."""

from .emit import emitter as _emitter

_emitter("timm")  # a clear LrdslError (E0802, what to install) instead of a bare ModuleNotFoundError

from .emit.timm_adapter import *  # noqa: E402, F403
from .emit.timm_adapter import __all__  # noqa: E402, F401
