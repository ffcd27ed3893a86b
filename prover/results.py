"""The results file of a prove job: one JSON line per theorem, appended and fsync'd as each ends.

Guarantees: a line is written with a single `write` and `fsync`, so an interrupted job leaves only
whole lines (a torn last line, possible only on power loss, is cut off on reopening); a rerun
skips theorems already recorded; two jobs on one file are refused through an exclusive lock.

Beside it, `<out>.config.json` records the job configuration that decides the results (generator,
time limits, tactics per expansion...), written when a job starts; a rerun with another
configuration on the same file is refused (`check_job_config`) rather than mixing the two.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class ResultsLockedError(RuntimeError):
    pass


class ConfigMismatchError(ValueError):
    """The results file was written by a job of another configuration. One-line message."""


def config_path(out: Path) -> Path:
    """The sidecar recording the configuration of the job that writes `out`."""
    return out.with_name(out.name + ".config.json")


def check_job_config(out: Path, config: dict[str, Any]) -> None:
    """Raise `ConfigMismatchError` when `out` belongs to a job of another configuration. A results file
    without a sidecar (written before sidecars existed) is taken as it is."""
    side = config_path(out)
    if not side.is_file():
        return
    try:
        before = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigMismatchError(f"{side}: unreadable job configuration ({e}); use a new --out") from None
    if not isinstance(before, dict):
        raise ConfigMismatchError(f"{side}: not a job configuration; use a new --out")
    diff = [
        f"{k} {before.get(k)!r} -> {config.get(k)!r}"
        for k in sorted(set(before) | set(config))
        if before.get(k) != config.get(k)
    ]
    if diff:
        raise ConfigMismatchError(
            f"{out} holds results of another configuration ({'; '.join(diff)}): "
            "use a new --out, or the same options as the job that wrote it"
        )


def write_job_config(out: Path, config: dict[str, Any]) -> None:
    """Record `config` beside `out` (atomically; unchanged when already there)."""
    side = config_path(out)
    text = json.dumps(config, indent=1, sort_keys=True) + "\n"
    if side.is_file() and side.read_text(encoding="utf-8") == text:
        return
    side.parent.mkdir(parents=True, exist_ok=True)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, side)


def read_results(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break  # torn tail
    return rows


class ResultsFile:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock_fd: int | None = None
        self._fd: int | None = None

    def __enter__(self) -> ResultsFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise ResultsLockedError(f"{self.path} is being written by another job (lock {lock_path})") from e
        self._repair_tail()
        self._fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
        return self

    def _repair_tail(self) -> None:
        """Cut a torn last line so appends start on a line boundary."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good = 0
        for line in data.splitlines(keepends=True):
            try:
                if line.strip():
                    json.loads(line)
            except json.JSONDecodeError:
                break
            if not line.endswith(b"\n"):
                break
            good += len(line)
        if good != len(data):
            with open(self.path, "r+b") as f:
                f.truncate(good)

    def done_keys(self) -> set[str]:
        return {r["key"] for r in read_results(self.path) if "key" in r}

    def append(self, row: dict[str, Any]) -> None:
        assert self._fd is not None, "use ResultsFile as a context manager"
        data = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(f"short write to {self.path} ({written}/{len(data)} bytes); disk full?")
            os.fsync(self._fd)
        except OSError:
            os.ftruncate(self._fd, size)  # disk full mid-line: take the partial line back
            raise

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(read_results(self.path))
