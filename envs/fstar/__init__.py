"""F* backend: a client of `fstar.exe --ide` (JSON-lines protocol v3)."""

from proofsmith.envs.fstar.environment import FStarConfig, FStarEnvironment
from proofsmith.envs.fstar.session import FStarIdeSession, FStarSessionConfig, FStarTimeout

__all__ = ["FStarConfig", "FStarEnvironment", "FStarIdeSession", "FStarSessionConfig", "FStarTimeout"]
