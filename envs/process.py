"""The one place that starts prover processes.

`ProverProcess` spawns a command in its own process group with an address-space cap, drains its
stderr, reads stdout with a deadline, and kills the whole group. Protocol clients (Coq XML, Lean
JSON, F* JSON lines, Isabelle) do their own framing on top of `read_chunk`.
"""

from __future__ import annotations

import collections
import logging
import os
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from proofsmith.envs.base import EnvCrashError, EnvStartError, EnvTimeoutError

log = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT = 4 * 1024**3  # bytes of address space per prover process


def group_members(pgid: int) -> list[int]:
    """Pids of the live (non-zombie) processes in process group `pgid`, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may contain spaces or parentheses: split after the last ')'
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) >= 3 and fields[0] != b"Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def kill_group(pgid: int, *, spare_leader: bool = False) -> None:
    """SIGKILL process group `pgid` (the leader's pid); `spare_leader` kills only its other members
    (external provers and forks a prover left behind when it was interrupted)."""
    if not spare_leader:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return
    for pid in group_members(pgid):
        if pid != pgid:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@dataclass
class ProcessConfig:
    """How to run one prover process."""

    argv: Sequence[str]
    cwd: str | None = None
    env: dict[str, str] | None = None
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT  # RLIMIT_AS in bytes; None = no cap
    stderr_lines_kept: int = 200
    extra_env: dict[str, str] = field(default_factory=dict)


def _limit_memory(limit: int | None) -> Callable[[], None]:
    def apply() -> None:
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


class ProverProcess:
    """A supervised child process speaking some protocol over stdin/stdout."""

    def __init__(self, config: ProcessConfig):
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=config.stderr_lines_kept)
        self.restarts = 0
        self._stderr_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self.alive:
            return
        env = dict(self.config.env if self.config.env is not None else os.environ)
        env.update(self.config.extra_env)
        try:
            self.proc = subprocess.Popen(
                list(self.config.argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.config.cwd,
                env=env,
                start_new_session=True,  # own process group: kill() takes children (z3, workers) too
                preexec_fn=_limit_memory(self.config.memory_limit),
                bufsize=0,
            )
        except FileNotFoundError as e:
            raise EnvStartError(f"cannot start {self.config.argv[0]!r}: {e}") from e
        self.stderr_tail.clear()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True)
        self._stderr_thread.start()

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for raw in iter(proc.stderr.readline, b""):
            self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def restart(self) -> None:
        self.kill()
        self.restarts += 1
        self.start()

    def kill(self) -> None:
        """SIGKILL the whole process group (the prover and every child it started)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        kill_group(proc.pid)
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=1)  # within LIMIT_SLACK: a killed prover in uninterruptible sleep is left to exit
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL not taking effect at once is exotic
            log.warning("prover pid %d still running 1s after SIGKILL", proc.pid)

    close = kill

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def interrupt(self) -> None:
        """SIGINT to the prover (only meaningful while it is busy with a request)."""
        if self.alive:
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGINT)

    def kill_children(self) -> None:
        """SIGKILL every process of the group but the prover itself (e.g. the ATPs of an interrupted
        CoqHammer call, which the prover does not stop when it is interrupted)."""
        if self.proc is not None:
            kill_group(self.proc.pid, spare_leader=True)

    def rss_bytes(self) -> int:
        """Resident memory of the prover process (0 if it is not running)."""
        if not self.alive:
            return 0
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    # ------------------------------------------------------------------ I/O
    def write(self, data: bytes) -> None:
        if not self.alive:
            raise self._crash_error("prover process is not running")
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise self._crash_error(f"prover process closed its input ({e})") from e

    def read_chunk(self, deadline: float | None) -> bytes:
        """Bytes available on stdout, waiting until `deadline` (time.monotonic()); never empty.

        Raises EnvTimeoutError at the deadline and EnvCrashError at EOF.
        """
        if self.proc is None or self.proc.stdout is None:
            raise self._crash_error("prover process is not running")
        fd = self.proc.stdout.fileno()
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                raise EnvTimeoutError(f"no reply from {self.config.argv[0]} within the deadline")
            data = os.read(fd, 1 << 16)
            if data:
                return data
            raise self._crash_error("prover process closed its output")

    def _crash_error(self, what: str) -> EnvCrashError:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        time.sleep(0.05)  # let the stderr thread catch the last words
        tail = " | ".join(list(self.stderr_tail)[-5:])
        oom = "out of memory" in tail.lower()
        detail = f"{what} (exit status {code})" + (f": {tail}" if tail else "")
        return EnvCrashError(("OOM: " if oom else "") + detail, is_out_of_memory=oom)

    def __enter__(self) -> ProverProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


@dataclass(frozen=True)
class BatchResult:
    """Outcome of a batch prover run (coqc, lean, isabelle build...)."""

    returncode: int | None
    output: str  # stdout and stderr, interleaved as the process wrote them
    timed_out: bool
    seconds: float
    out_of_memory: bool = False


def run_batch(
    argv: Sequence[str],
    timeout: float,
    cwd: str | None = None,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    env: dict[str, str] | None = None,
) -> BatchResult:
    """Run a batch checker to completion under the same caps as interactive provers.

    Returns within `timeout` + about one second: at the deadline the whole process group is killed
    (the checker and whatever it started), and output still held open by an escaped grandchild is
    not waited for.
    """
    merged = dict(os.environ if env is None else env)
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=merged,
            start_new_session=True,
            preexec_fn=_limit_memory(memory_limit),
        )
    except FileNotFoundError as e:
        raise EnvStartError(f"cannot start {argv[0]!r}: {e}") from e
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=max(0.0, timeout))
    except subprocess.TimeoutExpired:
        timed_out = True
        log.warning("%s exceeded its %.1fs limit; killing process group %d", argv[0], timeout, proc.pid)
        kill_group(proc.pid)
        try:
            out, _ = proc.communicate(timeout=1.0)
        except subprocess.TimeoutExpired:  # a grandchild outside the group holds the pipe: stop reading
            if proc.stdout:
                proc.stdout.close()
            proc.wait()
            out = b""
    kill_group(proc.pid)  # children the checker left running (the group outlives its leader)
    text = (out or b"").decode("utf-8", "replace")
    code = proc.returncode
    oom = (not timed_out) and (code in (-signal.SIGABRT, -signal.SIGKILL) or "out of memory" in text.lower())
    return BatchResult(code, text, timed_out, time.monotonic() - t0, oom)
