"""One TCP connection to an Isabelle server: password handshake, then byte messages."""

from __future__ import annotations

import json
import select
import socket
import time
from typing import Any

from proofsmith.envs.base import EnvCrashError, EnvStartError, EnvTimeoutError
from proofsmith.envs.isabelle.framing import ByteMessageReader, encode_message
from proofsmith.envs.isabelle.messages import Reply, ServerAddress, ServerHello, parse_hello, parse_reply


class IsabelleConnection:
    def __init__(self, address: ServerAddress):
        self.address = address
        self._sock: socket.socket | None = None
        self._reader: ByteMessageReader | None = None
        self.hello: ServerHello | None = None

    def open(self, timeout: float = 30.0) -> ServerHello:
        deadline = time.monotonic() + timeout
        try:
            self._sock = socket.create_connection((self.address.host, self.address.port), timeout=timeout)
        except OSError as e:
            raise EnvStartError(
                f"cannot connect to Isabelle server {self.address.name!r} at "
                f"{self.address.host}:{self.address.port}: {e}"
            ) from e
        self._sock.setblocking(True)
        self._reader = ByteMessageReader(self._recv)
        self.send_raw(self.address.password)
        reply = self.read(deadline)
        if reply is None or reply.name != "OK":
            self.close()
            raise EnvStartError(f"Isabelle server refused the password (answer: {reply.raw if reply else 'EOF'!r})")
        self.hello = parse_hello(reply.argument)
        return self.hello

    def _recv(self, deadline: float | None) -> bytes:
        assert self._sock is not None
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self._sock], [], [], wait)
        if not ready:
            raise EnvTimeoutError("no reply from the Isabelle server within the deadline")
        try:
            return self._sock.recv(1 << 16)
        except OSError:
            return b""

    def send_raw(self, text: str) -> None:
        if self._sock is None:
            raise EnvCrashError("Isabelle connection is closed")
        try:
            self._sock.sendall(encode_message(text))
        except OSError as e:
            raise EnvCrashError(f"Isabelle server closed the connection ({e})") from e

    def send(self, name: str, argument: Any = None) -> None:
        text = name if argument is None else f"{name} {json.dumps(argument, separators=(',', ':'))}"
        self.send_raw(text)

    def read(self, deadline: float | None) -> Reply | None:
        """The next message, or None when the server closed the connection."""
        if self._reader is None:
            raise EnvCrashError("Isabelle connection is closed")
        text = self._reader.read_message(deadline)
        return None if text is None else parse_reply(text)

    def close(self) -> None:
        sock, self._sock = self._sock, None
        self._reader = None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    @property
    def is_open(self) -> bool:
        return self._sock is not None
