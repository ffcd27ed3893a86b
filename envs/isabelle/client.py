"""Isabelle server client: one method per protocol command (System Manual, "The Isabelle server").

Like isabelle-client, every command runs on a fresh connection (password + command), so a
connection spoiled by garbage or a hang never outlives the command. Tasks belong to the server,
which is why `cancel` works from another connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from proofsmith.envs.base import EnvCrashError, EnvError, EnvTimeoutError
from proofsmith.envs.isabelle.connection import IsabelleConnection
from proofsmith.envs.isabelle.messages import (
    Failed,
    IsabelleProtocolError,
    Note,
    PurgeTheoriesResult,
    Reply,
    ServerAddress,
    ServerHello,
    SessionBuildResult,
    SessionStartResult,
    SessionStopResult,
    UseTheoriesResult,
    parse_failed,
    parse_note,
    parse_purge_theories,
    parse_session_build,
    parse_session_start,
    parse_session_stop,
    parse_task,
    parse_use_theories,
)


class IsabelleCommandError(EnvError):
    """`ERROR ...`: the server rejected the command itself (bad name, bad arguments)."""

    def __init__(self, command: str, argument: Any):
        super().__init__(f"Isabelle rejected {command}: {argument}")
        self.argument = argument


class IsabelleTaskFailed(EnvError):
    """An asynchronous command ended with `FAILED`."""

    def __init__(self, command: str, failed: Failed):
        super().__init__(f"Isabelle {command} failed: {failed.message}")
        self.failed = failed


class IsabelleTaskTimeout(EnvTimeoutError):
    """The task did not finish in time; `cancelled` says whether the server confirmed the cancel."""

    def __init__(self, message: str, task: str, cancelled: bool):
        super().__init__(message)
        self.task = task
        self.cancelled = cancelled


NoteHandler = Callable[[Note], None]


@dataclass(frozen=True)
class TaskOutcome:
    task: str
    final: Reply  # FINISHED or FAILED
    notes: tuple[Note, ...]


class IsabelleClient:
    def __init__(self, address: ServerAddress, connect_timeout: float = 30.0, cancel_grace: float = 5.0):
        self.address = address
        self.connect_timeout = connect_timeout
        self.cancel_grace = cancel_grace
        self.hello: ServerHello | None = None

    # ------------------------------------------------------------------ plumbing
    def _connect(self) -> IsabelleConnection:
        conn = IsabelleConnection(self.address)
        self.hello = conn.open(self.connect_timeout)
        return conn

    @staticmethod
    def _read(conn: IsabelleConnection, deadline: float | None, command: str) -> Reply:
        reply = conn.read(deadline)
        if reply is None:
            raise EnvCrashError(f"Isabelle server closed the connection during {command}")
        return reply

    def _sync(self, command: str, argument: Any = None, timeout: float | None = 60.0) -> Any:
        conn = self._connect()
        try:
            conn.send(command, argument)
            reply = self._read(conn, None if timeout is None else time.monotonic() + timeout, command)
        finally:
            conn.close()
        if reply.name == "ERROR":
            raise IsabelleCommandError(command, reply.argument)
        if reply.name != "OK":
            raise IsabelleProtocolError(f"Isabelle {command}: expected OK/ERROR, got {reply.raw[:200]!r}")
        return reply.argument

    def run_task(
        self, command: str, argument: Any, timeout: float | None = None, on_note: NoteHandler | None = None
    ) -> TaskOutcome:
        """Send an asynchronous command and wait for its FINISHED/FAILED.

        At the deadline: `cancel` from a second connection, wait `cancel_grace` for the task to end,
        then give up on the connection. Raises IsabelleTaskTimeout in both cases.
        """
        conn = self._connect()
        try:
            conn.send(command, argument)
            first = self._read(conn, time.monotonic() + self.connect_timeout, command)
            if first.name == "ERROR":
                raise IsabelleCommandError(command, first.argument)
            if first.name != "OK":
                raise IsabelleProtocolError(f"Isabelle {command}: expected OK {{task}}, got {first.raw[:200]!r}")
            task = parse_task(first.argument).task
            deadline = None if timeout is None else time.monotonic() + timeout
            notes: list[Note] = []
            try:
                return self._await_task(conn, command, task, deadline, notes, on_note)
            except EnvTimeoutError:
                cancelled = self._cancel_and_drain(conn, command, task, notes)
                raise IsabelleTaskTimeout(
                    f"Isabelle {command} did not finish within {timeout}s (cancel "
                    f"{'confirmed' if cancelled else 'unanswered'})",
                    task,
                    cancelled,
                ) from None
        finally:
            conn.close()

    def _await_task(
        self,
        conn: IsabelleConnection,
        command: str,
        task: str,
        deadline: float | None,
        notes: list[Note],
        on_note: NoteHandler | None,
    ) -> TaskOutcome:
        while True:
            reply = self._read(conn, deadline, command)
            arg_task = reply.argument.get("task") if isinstance(reply.argument, dict) else None
            if reply.name == "NOTE":
                note = parse_note(reply.argument)
                if note.task in (None, task):  # nodes_status notes carry no task
                    notes.append(note)
                    if on_note:
                        on_note(note)
            elif reply.name in ("FINISHED", "FAILED"):
                if arg_task == task:
                    return TaskOutcome(task, reply, tuple(notes))
            elif reply.name == "ERROR":
                raise IsabelleCommandError(command, reply.argument)
            else:
                raise IsabelleProtocolError(f"Isabelle {command}: unexpected message {reply.raw[:200]!r}")

    def _cancel_and_drain(self, conn: IsabelleConnection, command: str, task: str, notes: list[Note]) -> bool:
        try:
            self.cancel(task)
            self._await_task(conn, command, task, time.monotonic() + self.cancel_grace, notes, None)
            return True
        except EnvError:
            return False

    @staticmethod
    def _finished(command: str, outcome: TaskOutcome) -> Any:
        if outcome.final.name == "FAILED":
            raise IsabelleTaskFailed(command, parse_failed(outcome.final.argument))
        return outcome.final.argument

    # ------------------------------------------------------------------ commands
    def help(self) -> list[str]:
        return list(self._sync("help"))

    def echo(self, value: Any) -> Any:
        return self._sync("echo", value)

    def cancel(self, task: str) -> None:
        self._sync("cancel", {"task": task}, timeout=self.cancel_grace)

    def shutdown(self) -> None:
        self._sync("shutdown", timeout=10.0)

    def session_build(
        self,
        session: str,
        *,
        preferences: str | None = None,
        options: Sequence[str] = (),
        dirs: Sequence[str] = (),
        include_sessions: Sequence[str] = (),
        verbose: bool = False,
        timeout: float | None = None,
        on_note: NoteHandler | None = None,
    ) -> SessionBuildResult:
        arg = _session_args(session, preferences, options, dirs, include_sessions)
        if verbose:
            arg["verbose"] = True
        outcome = self.run_task("session_build", arg, timeout, on_note)
        if outcome.final.name == "FAILED":  # a failed build still reports per-session results
            failed = outcome.final.argument
            if isinstance(failed, dict) and "sessions" in failed:
                return parse_session_build(failed)
        return parse_session_build(self._finished("session_build", outcome))

    def session_start(
        self,
        session: str,
        *,
        preferences: str | None = None,
        options: Sequence[str] = (),
        dirs: Sequence[str] = (),
        include_sessions: Sequence[str] = (),
        print_mode: Sequence[str] = (),
        timeout: float | None = None,
        on_note: NoteHandler | None = None,
    ) -> SessionStartResult:
        arg = _session_args(session, preferences, options, dirs, include_sessions)
        if print_mode:
            arg["print_mode"] = list(print_mode)
        return parse_session_start(
            self._finished("session_start", self.run_task("session_start", arg, timeout, on_note))
        )

    def session_stop(self, session_id: str, timeout: float | None = 60.0) -> SessionStopResult:
        outcome = self.run_task("session_stop", {"session_id": session_id}, timeout)
        return parse_session_stop(self._finished("session_stop", outcome))

    def use_theories(
        self,
        session_id: str,
        theories: Sequence[str],
        *,
        master_dir: str | None = None,
        pretty_margin: float | None = None,
        unicode_symbols: bool | None = None,
        export_pattern: str | None = None,
        check_delay: float | None = None,
        check_limit: int | None = None,
        watchdog_timeout: float | None = None,
        nodes_status_delay: float | None = None,
        timeout: float | None = None,
        on_note: NoteHandler | None = None,
    ) -> UseTheoriesResult:
        arg: dict[str, Any] = {"session_id": session_id, "theories": list(theories)}
        for key, value in (
            ("master_dir", master_dir),
            ("pretty_margin", pretty_margin),
            ("unicode_symbols", unicode_symbols),
            ("export_pattern", export_pattern),
            ("check_delay", check_delay),
            ("check_limit", check_limit),
            ("watchdog_timeout", watchdog_timeout),
            ("nodes_status_delay", nodes_status_delay),
        ):
            if value is not None:
                arg[key] = value
        return parse_use_theories(self._finished("use_theories", self.run_task("use_theories", arg, timeout, on_note)))

    def purge_theories(
        self, session_id: str, theories: Sequence[str], *, master_dir: str | None = None, all: bool = False
    ) -> PurgeTheoriesResult:
        arg: dict[str, Any] = {"session_id": session_id, "theories": list(theories)}
        if master_dir is not None:
            arg["master_dir"] = master_dir
        if all:
            arg["all"] = True
        return parse_purge_theories(self._sync("purge_theories", arg))


def _session_args(
    session: str, preferences: str | None, options: Sequence[str], dirs: Sequence[str], include_sessions: Sequence[str]
) -> dict[str, Any]:
    arg: dict[str, Any] = {"session": session}
    if preferences is not None:
        arg["preferences"] = preferences
    if options:
        arg["options"] = list(options)
    if dirs:
        arg["dirs"] = list(dirs)
    if include_sessions:
        arg["include_sessions"] = list(include_sessions)
    return arg
