"""Crash-safe writes: an interrupted run never leaves a half-written dataset file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO


class atomic_writer:
    """Write to `path.tmp`, rename on success: an interrupted run never leaves a half file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")

    def __enter__(self) -> TextIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.tmp, "w", encoding="utf-8")
        return self.f

    def __exit__(self, exc_type, *rest) -> None:
        self.f.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    with atomic_writer(path) as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
