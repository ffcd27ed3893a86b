"""Isabelle backend: a client of the official Isabelle server (`isabelle server`)."""
from envs.isabelle.client import IsabelleClient, IsabelleCommandError, IsabelleTaskFailed, IsabelleTaskTimeout
from envs.isabelle.environment import IsabelleConfig, IsabelleEnvironment
from envs.isabelle.messages import ServerAddress
from envs.isabelle.server import IsabelleServerProcess, ServerConfig

__all__ = [
    "IsabelleClient", "IsabelleCommandError", "IsabelleTaskFailed", "IsabelleTaskTimeout", "IsabelleConfig",
    "IsabelleEnvironment", "ServerAddress", "IsabelleServerProcess", "ServerConfig",
]
