"""``lrdsl.omegaconf``: the public import path of :mod:`lrdsl.tools.omegaconf`."""

from .tools.omegaconf import *  # noqa: F403
from .tools.omegaconf import __all__  # noqa: F401
