"""The everyday tools over the public API: the CLI, reports, lint, plots, configs, the range test."""
