"""F* backend: a client of `fstar.exe --ide` (JSON-lines protocol v3)."""
from envs.fstar.environment import FStarConfig, FStarEnvironment
from envs.fstar.session import FStarIdeSession, FStarSessionConfig, FStarTimeout

__all__ = ["FStarConfig", "FStarEnvironment", "FStarIdeSession", "FStarSessionConfig", "FStarTimeout"]
