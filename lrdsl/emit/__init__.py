"""Emitters: the compiled program as PyTorch, Keras and JAX/optax objects.

Each emitter module imports its framework.  The core reaches them only
through :func:`emitter`, by name: nothing in the language, the primitives,
the backends or :mod:`lrdsl.schedule` imports an emitter module (a test reads
the import graph), so ``import lrdsl`` never pulls in a framework, and a
missing framework is an :class:`~lrdsl.LrdslError` that says what to install.
"""

from __future__ import annotations

import importlib

from ..language.errors import LrdslError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

#: emitter name -> (module, the framework it imports, what to install)
EMITTERS: dict[str, tuple[str, str, str]] = {
    "torch": ("lrdsl.emit.torch", "torch", "pip install torch"),
    "keras": ("lrdsl.emit.keras", "keras", "pip install keras tensorflow-cpu (or another Keras backend)"),
    "jax": ("lrdsl.emit.jax", "jax", "pip install 'lrdsl[jax]'"),
    "torch_fn": ("lrdsl.emit.torch_fn", "torch", "pip install torch"),
    "lightning": ("lrdsl.emit.lightning", "lightning", "pip install lightning"),
    "hf": ("lrdsl.emit.hf", "transformers", "pip install transformers accelerate"),
    "accelerate": ("lrdsl.emit.accelerate", "accelerate", "pip install accelerate"),
    "timm": ("lrdsl.emit.timm_adapter", "torch", "pip install torch"),
}


def emitter(name: str) -> ModuleType:
    """The emitter module ``name`` (``"torch"``, ``"keras"``, ``"jax"``, ``"torch_fn"``), imported
    on first use; E0802 when its framework is not installed."""
    module, framework, install = EMITTERS[name]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = (err.name or "").split(".")[0]
        if missing not in (framework, "tensorflow", "jaxlib", "optax"):
            raise
        raise LrdslError(
            f"the {name} emitter needs {missing}, which is not installed",
            code="E0802",
            hints=[install],
        ) from None
