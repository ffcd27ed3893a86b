"""Isabelle server "byte messages": short lines, or a decimal length line + N bytes.

N counts the message's trailing LF (observed on the recorded server output); a missing final
LF at EOF is tolerated (fixture `use_theories.Sledgehammer`).
"""

from __future__ import annotations

from collections.abc import Callable

from proofsmith.envs.base import EnvCrashError

SHORT_LIMIT = 100  # the server itself switches to the long form above this size


def encode_message(text: str) -> bytes:
    """One client message; the long form only when the text holds a line break or is long."""
    data = text.encode("utf-8")
    # An empty or all-digit short message would read as a length line: those take the long form.
    if b"\n" not in data and b"\r" not in data and len(data) <= SHORT_LIMIT and data and not data.isdigit():
        return data + b"\n"
    body = data + b"\n"
    return str(len(body)).encode("ascii") + b"\n" + body


class ByteMessageReader:
    """Splits a byte stream into messages. `recv(deadline)` returns b"" at EOF."""

    def __init__(self, recv: Callable[[float | None], bytes]):
        self._recv = recv
        self._buf = bytearray()
        self.eof = False

    def _fill(self, deadline: float | None) -> bool:
        if self.eof:
            return False
        data = self._recv(deadline)
        if not data:
            self.eof = True
            return False
        self._buf.extend(data)
        return True

    def _line(self, deadline: float | None) -> bytes | None:
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[: nl + 1]
                return line[:-1] if line.endswith(b"\r") else line
            if not self._fill(deadline):
                if self._buf:  # a last line without LF
                    line = bytes(self._buf)
                    self._buf.clear()
                    return line
                return None

    def read_message(self, deadline: float | None) -> str | None:
        """The next message as text, or None at a clean EOF.

        Empty lines are skipped: several recorded replies (`cancel`, `help`, `session_stop`) end
        with one, and no message is empty.
        """
        line = self._line(deadline)
        while line == b"":
            line = self._line(deadline)
        if line is None:
            return None
        if line and line.isdigit():
            size = int(line)
            while len(self._buf) < size:
                if not self._fill(deadline):
                    if len(self._buf) == size - 1:  # final LF missing at EOF: accepted
                        break
                    raise EnvCrashError(f"Isabelle server: long message cut short ({len(self._buf)} of {size} bytes)")
            body = bytes(self._buf[:size])
            del self._buf[:size]
            if body.endswith(b"\n"):
                body = body[:-1]
            line = body
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise EnvCrashError(f"Isabelle server sent bytes that are not UTF-8: {e}") from e
