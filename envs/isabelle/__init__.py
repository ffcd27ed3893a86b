"""Isabelle backend: a client of the official Isabelle server (`isabelle server`)."""

from proofsmith.envs.isabelle.client import (
    IsabelleClient,
    IsabelleCommandError,
    IsabelleTaskFailed,
    IsabelleTaskTimeout,
)
from proofsmith.envs.isabelle.environment import IsabelleConfig, IsabelleEnvironment
from proofsmith.envs.isabelle.messages import ServerAddress
from proofsmith.envs.isabelle.server import IsabelleServerProcess, ServerConfig

__all__ = [
    "IsabelleClient",
    "IsabelleCommandError",
    "IsabelleTaskFailed",
    "IsabelleTaskTimeout",
    "IsabelleConfig",
    "IsabelleEnvironment",
    "ServerAddress",
    "IsabelleServerProcess",
    "ServerConfig",
]
