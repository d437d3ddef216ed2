"""``lrdsl.errors``: the public import path of :mod:`lrdsl.language.errors`."""

from .language.errors import *  # noqa: F403
