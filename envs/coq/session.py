"""One coqidetop process, one method per protocol verb (PyPantograph style)."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from proofsmith.envs.base import EnvCrashError, EnvTimeoutError, ProverNotInstalledError
from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.process import DEFAULT_MEMORY_LIMIT, ProcessConfig, ProverProcess

log = logging.getLogger(__name__)

# Seconds between the SIGINT sent at a call's deadline and killing coqidetop's process group when the
# interrupt is not answered (Coq polls for interrupts only at some points of its work).
INTERRUPT_GRACE = 1.0

COQ_INSTALL_HINT = (
    "Coq is not installed: run `make setup` (or `sudo apt-get install coq libcoq-stdlib "
    "libcoq-mathcomp-ssreflect libcoq-coquelicot libcoq-hammer`)"
)


def find_coqidetop() -> str:
    for name in ("coqidetop.opt", "coqidetop"):
        path = shutil.which(name)
        if path:
            return path
    raise ProverNotInstalledError(COQ_INSTALL_HINT)


@dataclass
class CoqSessionConfig:
    load_paths: Sequence[tuple[str, str]] = ()  # (dir, logical prefix) → -R dir prefix
    extra_args: Sequence[str] = ()
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT
    call_timeout: float = 60.0  # default limit of one protocol call (seconds), when none is given
    cwd: str | None = None
    coqidetop: str | None = None
    flags: list[str] = field(default_factory=list)

    def argv(self) -> list[str]:
        argv = [self.coqidetop or find_coqidetop(), "-main-channel", "stdfds"]
        for directory, prefix in self.load_paths:
            argv += ["-R", str(directory), prefix]
        return argv + list(self.extra_args)


class CoqIdeSession:
    """A coqidetop process. Each verb writes one call and reads exactly one `<value>`."""

    def __init__(self, config: CoqSessionConfig | None = None):
        self.config = config or CoqSessionConfig()
        # micromega (lia/nia/lra) writes cache files into the working directory, and CoqHammer's `predict`
        # writes temporary files under TMPDIR that an interrupted `hammer` never removes (thousands in /tmp
        # after a long search): both go to a scratch directory removed with the session
        self._scratch: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(prefix="proofsmith-coq-")
        cwd = self.config.cwd if self.config.cwd is not None else self._scratch.name
        self.process = ProverProcess(
            ProcessConfig(
                argv=self.config.argv(),
                cwd=cwd,
                memory_limit=self.config.memory_limit,
                extra_env={"TMPDIR": self._scratch.name},
            )
        )
        self._reader = xp.XmlStreamReader()
        self.root_state = 0
        self._latched_interrupt = False
        self.interrupted = False  # the last call hit its deadline and was interrupted (its reply says Timeout!)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> int:
        """Spawn and Init; returns the root state id (1 on Coq 8.16)."""
        self.process.start()
        self._reader = xp.XmlStreamReader()
        self.root_state = self.init()
        return self.root_state

    def restart(self) -> int:
        self.process.kill()
        self.process.restarts += 1
        return self.start()

    def close(self) -> None:
        if self.process.alive:
            try:
                self.process.write(xp.call_quit())
            except EnvCrashError:
                pass
        self.process.kill()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    @property
    def alive(self) -> bool:
        return self.process.alive

    # ------------------------------------------------------------------ transport
    def call(
        self,
        payload: bytes,
        timeout: float | None = None,
        *,
        deadline: float | None = None,
        kill_at: float | None = None,
    ) -> xp.Reply:
        """Write one call and collect feedback until its `<value>`.

        The call is bounded by `deadline` (a `time.monotonic()` instant) and/or `timeout` (seconds
        from now; the session's `call_timeout` when neither is given). At the deadline coqidetop gets
        SIGINT (a call is outstanding, so it cannot be latched): an answered interrupt returns a failed
        reply whose `fail_text` starts with "Timeout!" and sets `self.interrupted`, and the processes
        the prover started (CoqHammer's ATPs, forks) are killed. With no answer by `kill_at`
        (deadline + INTERRUPT_GRACE by default) the whole process group is killed and EnvTimeoutError
        raised. So a call never outlives `kill_at` by more than the time to kill a process.
        """
        now = time.monotonic()
        if deadline is None:
            deadline = now + (self.config.call_timeout if timeout is None else timeout)
        elif timeout is not None:
            deadline = min(deadline, now + timeout)
        if kill_at is None:
            kill_at = deadline + INTERRUPT_GRACE
        kill_at = max(kill_at, deadline)
        latched, self._latched_interrupt = self._latched_interrupt, False
        reply = self._call_once(payload, deadline, kill_at, deadline - now)
        if latched and not reply.good and reply.fail_text.startswith("User interrupt"):
            # our SIGINT raced a reply that was already on its way and got latched: retry once
            reply = self._call_once(payload, deadline, kill_at, deadline - now)
        return reply

    def _call_once(self, payload: bytes, deadline: float, kill_at: float, limit: float) -> xp.Reply:
        self.interrupted = False
        self.process.write(payload)
        reply = xp.Reply(good=False, value=None)
        interrupted = False
        while True:
            try:
                chunk = self.process.read_chunk(kill_at if interrupted else deadline)
            except EnvTimeoutError as e:
                pid = self.process.pid
                if interrupted:
                    log.warning("coqidetop pid %s did not answer its interrupt; killing its process group", pid)
                    self.process.kill()
                    raise EnvTimeoutError(
                        f"coqidetop did not answer within its {max(0.0, limit):.1f}s limit; process killed"
                    ) from e
                log.info("a call reached its deadline (%.1fs); interrupting coqidetop pid %s", max(0.0, limit), pid)
                self.process.interrupt()
                interrupted = True
                continue
            except EnvCrashError:
                self.process.kill()
                raise
            for elem in self._reader.feed(chunk):
                if elem.tag == "feedback":
                    msg, axiom = xp.decode_feedback(elem)
                    reply.axioms_added |= axiom
                    if msg is not None:
                        reply.messages.append(msg)
                elif elem.tag == "value":
                    reply.value = elem
                    reply.good = elem.get("val") == "good"
                    if not reply.good:
                        reply.fail_state, reply.fail_text, reply.fail_loc = xp.decode_fail(elem)
                    if interrupted:
                        self.process.kill_children()  # ATPs an interrupted hammer left running
                        if "User interrupt" in reply.fail_text:
                            reply.fail_text = f"Timeout! (no answer within {max(0.0, limit):.1f}s; interrupted)"
                            self.interrupted = True
                        else:
                            self._latched_interrupt = True
                    return reply

    # ------------------------------------------------------------------ verbs
    def init(self) -> int:
        reply = self.call(xp.call_init())
        if not reply.good:
            raise EnvCrashError(f"Init failed: {reply.fail_text}")
        return xp.decode_state_id(reply.value)

    def about(self) -> tuple[str, ...]:
        return xp.decode_about(self.call(xp.call_about()).value)

    # Each verb takes the `timeout` / `deadline` / `kill_at` bounds of `call`.
    def add(self, sentence: str, parent: int, timeout: float | None = None, **bounds: float | None) -> xp.Reply:
        return self.call(xp.call_add(sentence, parent), timeout, **bounds)

    def goal(self, timeout: float | None = None, **bounds: float | None) -> xp.Reply:
        return self.call(xp.call_goal(), timeout, **bounds)

    def status(self, timeout: float | None = None, **bounds: float | None) -> xp.Reply:
        return self.call(xp.call_status(True), timeout, **bounds)

    def edit_at(self, sid: int, timeout: float | None = None, **bounds: float | None) -> xp.Reply:
        return self.call(xp.call_edit_at(sid), timeout, **bounds)

    def query(
        self, text: str, sid: int, timeout: float | None = None, **bounds: float | None
    ) -> tuple[xp.Reply, list[str]]:
        """Run a command at state `sid` without adding it; returns the reply and its notice texts."""
        reply = self.call(xp.call_query(text, sid), timeout, **bounds)
        notices = [m.text for m in reply.messages if m.level == "notice" and m.route == 0]
        return reply, notices

    def rss_bytes(self) -> int:
        return self.process.rss_bytes()
