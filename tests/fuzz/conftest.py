"""tests/fuzz holds atheris fuzz targets, run by .ci/fuzz, never by pytest."""

collect_ignore_glob = ["fuzz_*.py"]
