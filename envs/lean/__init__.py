"""Lean 4 backend: a client for leanprover-community/repl, an `Environment`, and a LeanDojo facade."""

from proofsmith.envs.lean.environment import LeanEnvironment
from proofsmith.envs.lean.session import LeanReplConfig, ReplSession

__all__ = ["LeanEnvironment", "LeanReplConfig", "ReplSession"]
