"""Wire framing of the Lean REPL (protocol spec §2).

Request: one JSON object on one line (newlines inside strings escaped), then exactly one blank line.
Response: pretty-printed JSON over several lines, ended by an empty line.
"""

from __future__ import annotations

import json
from collections.abc import Callable


def encode_request(obj: dict) -> bytes:
    """`json.dumps` escapes every newline, so the request is one line; the blank line ends it."""
    return (json.dumps(obj, ensure_ascii=False) + "\n\n").encode("utf-8")


class GarbageError(ValueError):
    """The REPL's stdout held something that is not a JSON reply."""


class ResponseReader:
    """Accumulates stdout bytes and cuts them into replies at the first empty line."""

    def __init__(self) -> None:
        self._buf = b""

    def clear(self) -> None:
        self._buf = b""

    def read(self, read_chunk: Callable[[float | None], bytes], deadline: float | None) -> object:
        """The next reply as parsed JSON. `read_chunk` raises on timeout/EOF (see ProverProcess)."""
        while True:
            reply = self._take()
            if reply is not None:
                return reply
            self._buf += read_chunk(deadline)

    def _take(self) -> object | None:
        # Leading empty lines carry nothing; a reply starts at its first non-empty line.
        start = 0
        while True:
            nl = self._buf.find(b"\n", start)
            if nl < 0:
                self._buf = self._buf[start:]
                return None
            if self._buf[start:nl].strip():
                break
            start = nl + 1
        self._buf = self._buf[start:]
        lines: list[bytes] = []
        pos = 0
        while True:
            nl = self._buf.find(b"\n", pos)
            if nl < 0:
                return None  # reply not complete yet
            line = self._buf[pos:nl]
            pos = nl + 1
            if not line.strip():
                break
            lines.append(line)
        self._buf = self._buf[pos:]
        text = b"\n".join(lines).decode("utf-8", "replace")
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise GarbageError(f"REPL output is not JSON ({e}): {text[:200]!r}") from e
