"""Coq 8.16 backend: coqidetop XML protocol, live proof environment, batch verification."""

from proofsmith.envs.coq.env import CoqConfig, CoqEnvironment

__all__ = ["CoqConfig", "CoqEnvironment"]
