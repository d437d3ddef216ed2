"""Shared fixtures: ``backend`` runs a value test once per evaluator."""

from __future__ import annotations

import pytest

from lrdsl import backends


@pytest.fixture(params=["cython", "numpy"])
def backend(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Every schedule compiled in the test evaluates on this backend."""
    name = request.param
    if name == "cython":
        backends.force(None)
        if backends.backend() != "cython":
            pytest.skip(f"C kernel not built: {backends.backend_reason()}")
    backends.force(name)
    yield name
    backends.force(None)
