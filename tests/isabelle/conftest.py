"""Pytest fixtures for the Isabelle tests (definitions in isabelle_fakes.py)."""

from isabelle_fakes import fake_server, responses_dir, scenario_env  # noqa: F401
