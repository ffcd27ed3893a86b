"""`fstar.exe --ide FILE`: JSON lines, protocol v3, one method per query.

Every wait has a deadline. Queries that F* never answers (`cancel`, `restart-solver`, a lookup
with `symbol-range` that finds nothing) are sent without waiting, or waited for briefly.
A deadline escalates: `cancel` (full-buffer only) → SIGINT (F* rolls back an interrupted push) →
kill the process group, Z3 included.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from proofsmith.envs.base import EnvCrashError, EnvStartError, EnvTimeoutError, ProverNotInstalledError
from proofsmith.envs.fstar.messages import (
    LookupResult,
    Output,
    Progress,
    ProtocolInfo,
    Query,
    Response,
    parse_lookup,
    parse_output,
)
from proofsmith.envs.process import ProcessConfig, ProverProcess

INSTALL_HINT = (
    "F* is not installed: get a binary release from https://github.com/FStarLang/FStar/releases "
    "(or `opam install fstar`) and put fstar.exe and z3 on PATH"
)


class FStarTimeout(EnvTimeoutError):
    """A query ran past its deadline. `process_kept`: SIGINT worked and F* is still usable."""

    def __init__(self, message: str, process_kept: bool):
        super().__init__(message)
        self.process_kept = process_kept


@dataclass
class FStarSessionConfig:
    file: str
    command: Sequence[str] = ("fstar.exe",)
    options: Sequence[str] = ()
    include_dirs: Sequence[str] = ()
    cwd: str | None = None
    memory_limit: int | None = 16 * 1024**3  # F* and its Z3 children share the cap
    startup_timeout: float = 60.0
    interrupt_grace: float = 3.0
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    response: Response
    messages: tuple[Output, ...] = ()


@dataclass(frozen=True)
class FullBufferResult:
    responses: tuple[Response, ...]
    messages: tuple[Output, ...]
    finished: bool  # saw the `full-buffer-finished` progress message


class FStarIdeSession:
    def __init__(self, config: FStarSessionConfig):
        self.config = config
        self.process = ProverProcess(
            ProcessConfig(
                argv=self.argv(), cwd=config.cwd, memory_limit=config.memory_limit, extra_env=dict(config.extra_env)
            )
        )
        self.info: ProtocolInfo | None = None
        self.debug_lines: list[str] = []  # non-JSON stdout lines (e.g. --debug output)
        self._buf = b""
        self._counter = 0

    def argv(self) -> list[str]:
        argv = [*self.config.command, "--ide", self.config.file]
        for d in self.config.include_dirs:
            argv += ["--include", d]
        return argv + list(self.config.options)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ProtocolInfo:
        exe = self.config.command[0] if self.config.command else ""
        if exe == "fstar.exe" and shutil.which(exe) is None:
            raise ProverNotInstalledError(INSTALL_HINT)
        self._buf = b""
        self.process.start()
        first = self._next(time.monotonic() + self.config.startup_timeout)
        if not isinstance(first, ProtocolInfo):
            self.kill()
            raise EnvStartError(f"F* did not start with protocol-info (got {first!r:.200})")
        if first.version < 2:
            self.kill()
            raise EnvStartError(f"F* IDE protocol version {first.version} is too old (need 2 or 3)")
        self.info = first
        return first

    @property
    def alive(self) -> bool:
        return self.process.alive

    def kill(self) -> None:
        self.process.kill()
        self._buf = b""

    close = kill

    # ------------------------------------------------------------------ I/O
    def _next(self, deadline: float | None) -> Output:
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                self._buf += self.process.read_chunk(deadline)
                continue
            raw, self._buf = self._buf[:nl], self._buf[nl + 1 :]
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            if not line.startswith("{"):
                self.debug_lines.append(line)  # debug chatter, as PoPAI's harness skips it
                continue
            return parse_output(line)

    def _send(self, query: str, args: dict) -> str:
        self._counter += 1
        qid = str(self._counter)
        self.process.write(Query(qid, query, args).to_line())
        return qid

    def _belongs(self, out: Output, qid: str) -> bool:
        q = getattr(out, "query_id", None)
        return q is None or q == qid or (isinstance(q, str) and q.startswith(qid + "."))

    def request(self, query: str, args: dict, timeout: float | None = None, interruptible: bool = True) -> Reply:
        qid = self._send(query, args)
        deadline = None if timeout is None else time.monotonic() + timeout
        messages: list[Output] = []
        try:
            return self._await(qid, deadline, messages)
        except EnvTimeoutError:
            self._escalate(qid, messages, interruptible, timeout)
            raise  # pragma: no cover - _escalate always raises

    def _await(self, qid: str, deadline: float | None, messages: list[Output]) -> Reply:
        while True:
            out = self._next(deadline)
            if isinstance(out, Response) and out.query_id == qid:
                return Reply(out, tuple(messages))
            if not isinstance(out, Response) and self._belongs(out, qid):
                messages.append(out)
            # anything else is a late answer to an abandoned query: dropped

    def _escalate(
        self,
        qid: str,
        messages: list[Output],
        interruptible: bool,
        timeout: float | None,
        cancel_at: tuple[int, int] | None = None,
    ) -> None:
        if cancel_at is not None:
            self.cancel(*cancel_at)
        if interruptible and self.alive:
            self.process.interrupt()
            try:
                self._await(qid, time.monotonic() + self.config.interrupt_grace, messages)
                raise FStarTimeout(f"F* query {qid} ran past {timeout}s; interrupted", process_kept=True)
            except EnvTimeoutError as e:
                if isinstance(e, FStarTimeout):
                    raise
            except EnvCrashError:
                pass  # died on the interrupt: same as killing it
        self.kill()
        raise FStarTimeout(f"F* query {qid} ran past {timeout}s; process group killed", process_kept=False)

    # ------------------------------------------------------------------ queries
    def exit(self) -> None:
        try:
            self.request("exit", {}, timeout=5, interruptible=False)
        finally:
            self.kill()

    def describe_protocol(self, timeout: float = 30) -> Response:
        return self.request("describe-protocol", {}, timeout).response

    def describe_repl(self, timeout: float = 30) -> Response:
        return self.request("describe-repl", {}, timeout).response

    def vfs_add(self, contents: str, filename: str | None = None, timeout: float = 30) -> Response:
        return self.request("vfs-add", {"filename": filename, "contents": contents}, timeout).response

    def push(self, code: str, line: int, column: int = 0, kind: str = "full", timeout: float | None = None) -> Reply:
        return self.request("push", {"kind": kind, "code": code, "line": line, "column": column}, timeout)

    def peek(self, code: str, line: int, column: int = 0, kind: str = "lax", timeout: float | None = None) -> Reply:
        return self.request("peek", {"kind": kind, "code": code, "line": line, "column": column}, timeout)

    def pop(self, timeout: float = 30) -> Response:
        return self.request("pop", {}, timeout, interruptible=False).response

    def push_partial_checked_file(self, until_lid: str, timeout: float | None = None) -> Reply:
        return self.request("push-partial-checked-file", {"until-lid": until_lid}, timeout)

    def full_buffer(
        self,
        code: str,
        kind: str = "full",
        with_symbols: bool = False,
        to_position: tuple[int, int] | None = None,
        timeout: float | None = None,
    ) -> FullBufferResult:
        """Stream a `full-buffer` run until its `full-buffer-finished` progress message."""
        args: dict[str, Any] = {"kind": kind, "with-symbols": with_symbols, "code": code, "line": 1, "column": 0}
        if to_position is not None:
            args["to-position"] = {"line": to_position[0], "column": to_position[1]}
        qid = self._send("full-buffer", args)
        deadline = None if timeout is None else time.monotonic() + timeout
        responses: list[Response] = []
        messages: list[Output] = []
        try:
            while True:
                out = self._next(deadline)
                if not self._belongs(out, qid):
                    continue
                if isinstance(out, Response):
                    responses.append(out)
                elif isinstance(out, Progress) and out.stage == "full-buffer-finished":
                    return FullBufferResult(tuple(responses), tuple(messages), True)
                else:
                    messages.append(out)
        except EnvTimeoutError:
            self._escalate(qid, messages, True, timeout, cancel_at=(1, 0))  # drop every queued fragment
            raise  # pragma: no cover

    def lookup(
        self,
        symbol: str,
        requested_info: Sequence[str] = ("type", "documentation", "defined-at"),
        context: str | None = None,
        location: dict | None = None,
        symbol_range: dict | None = None,
        timeout: float = 30,
    ) -> Response | None:
        """A lookup; None when F* stays silent (a `symbol-range` lookup that finds nothing)."""
        args: dict[str, Any] = {"symbol": symbol, "requested-info": list(requested_info)}
        if context is not None:
            args["context"] = context
        if location is not None:
            args["location"] = location
        if symbol_range is not None:
            args["symbol-range"] = symbol_range
            qid = self._send("lookup", args)
            try:
                return self._await(qid, time.monotonic() + timeout, []).response
            except EnvTimeoutError:
                return None  # a late answer will carry this qid and be dropped
        return self.request("lookup", args, timeout, interruptible=False).response

    @staticmethod
    def lookup_result(response: Response) -> LookupResult | None:
        return parse_lookup(response.response) if response.ok else None

    def segment(self, code: str, timeout: float = 30) -> Response:
        return self.request("segment", {"code": code}, timeout).response

    def compute(self, term: str, rules: Sequence[str] | None = None, timeout: float | None = 60) -> Response:
        args: dict[str, Any] = {"term": term}
        if rules is not None:
            args["rules"] = list(rules)
        return self.request("compute", args, timeout).response

    def autocomplete(self, partial_symbol: str, context: str | None = None, timeout: float = 30) -> Response:
        args: dict[str, Any] = {"partial-symbol": partial_symbol}
        if context is not None:
            args["context"] = context
        return self.request("autocomplete", args, timeout, interruptible=False).response

    def search(self, terms: str, timeout: float = 30) -> Response:
        return self.request("search", {"terms": terms}, timeout).response

    def format(self, code: str, timeout: float = 30) -> Response:
        return self.request("format", {"code": code}, timeout).response

    def restart_solver(self) -> None:
        self._send("restart-solver", {})  # F* writes no response

    def cancel(self, line: int, column: int) -> None:
        self._send("cancel", {"cancel-line": line, "cancel-column": column})  # F* writes no response
