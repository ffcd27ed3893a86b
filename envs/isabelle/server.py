"""Start (through envs.process.ProverProcess) or attach to a named `isabelle server`."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from proofsmith.envs.base import EnvStartError, EnvTimeoutError, ProverNotInstalledError
from proofsmith.envs.isabelle.messages import ServerAddress
from proofsmith.envs.process import ProcessConfig, ProverProcess

INSTALL_HINT = (
    "Isabelle is not installed: download Isabelle2025 from https://isabelle.in.tum.de/ "
    "and put its bin/ directory on PATH (the `isabelle` command)"
)


@dataclass
class ServerConfig:
    command: Sequence[str] = ("isabelle",)
    name: str = "proofsmith"
    port: int | None = None
    log_file: str | None = None
    # The JVM reserves far more address space than it uses: no RLIMIT_AS cap by default.
    memory_limit: int | None = None
    startup_timeout: float = 120.0
    extra_env: dict[str, str] = field(default_factory=dict)


class IsabelleServerProcess:
    """`isabelle server -n NAME` spawned as a supervised process; `address` once it printed it."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.process: ProverProcess | None = None
        self.address: ServerAddress | None = None

    def argv(self) -> list[str]:
        argv = [*self.config.command, "server", "-n", self.config.name]
        if self.config.port is not None:
            argv += ["-p", str(self.config.port)]
        if self.config.log_file:
            argv += ["-L", self.config.log_file]
        return argv

    def start(self) -> ServerAddress:
        if self.config.command and self.config.command[0] == "isabelle" and shutil.which("isabelle") is None:
            raise ProverNotInstalledError(INSTALL_HINT)
        self.process = ProverProcess(
            ProcessConfig(
                argv=self.argv(), memory_limit=self.config.memory_limit, extra_env=dict(self.config.extra_env)
            )
        )
        self.process.start()
        deadline = time.monotonic() + self.config.startup_timeout
        buf = b""
        try:
            while b"\n" not in buf:
                buf += self.process.read_chunk(deadline)
        except EnvTimeoutError as e:
            self.stop()
            raise EnvStartError(f"isabelle server printed no address within {self.config.startup_timeout}s") from e
        except Exception as e:
            self.stop()
            raise EnvStartError(f"isabelle server did not start: {e}") from e
        line = buf.split(b"\n", 1)[0].decode("utf-8", "replace")
        try:
            self.address = ServerAddress.parse(line)
        except ValueError as e:
            self.stop()
            raise EnvStartError(str(e)) from e
        return self.address

    def restart(self) -> ServerAddress:
        self.stop()
        return self.start()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.alive

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
        self.process = None
