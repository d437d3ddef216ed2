"""``lrdsl.hf``: the public path of :mod:`lrdsl.emit.hf` and :mod:`lrdsl.emit.accelerate` (E0802 without them)."""

from .emit import emitter as _emitter

_emitter("accelerate"), _emitter("hf")  # clear LrdslErrors (E0802, what to install)

from .emit.accelerate import *  # noqa: E402, F403
from .emit.accelerate import __all__ as _accelerate  # noqa: E402
from .emit.hf import *  # noqa: E402, F403
from .emit.hf import __all__ as _hf  # noqa: E402

__all__ = [*_hf, *_accelerate]
