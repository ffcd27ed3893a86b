"""Pytest fixtures for the F* tests (definitions in fstar_fakes.py)."""

from fstar_fakes import fstar_env, harness_file, integration_file, replay_session  # noqa: F401
