"""Lean 4 backend: a client for leanprover-community/repl, an `Environment`, and a LeanDojo facade."""
from envs.lean.environment import LeanEnvironment
from envs.lean.session import LeanReplConfig, ReplSession

__all__ = ["LeanEnvironment", "LeanReplConfig", "ReplSession"]
