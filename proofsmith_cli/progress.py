"""A progress bar for prove jobs: theorems done, proved so far, rate; optionally one line per theorem."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm

from proofsmith.prover.status import SearchStatus


class JobProgress:
    def __init__(self, total: int, show_each: bool = False):
        self.bar = tqdm(total=total, desc="proving", unit="thm")
        self.show_each = show_each
        self.proved = 0

    def __call__(self, row: dict[str, Any]) -> None:
        self.proved += row.get("status") == SearchStatus.PROVED
        self.bar.set_postfix(proved=self.proved)
        self.bar.update(1)
        if self.show_each:
            proof = f"  {' '.join(row['proof'])}" if row.get("proof") else ""
            tqdm.write(f"{row['theorem']}: {row['status']}{proof}")

    def close(self) -> None:
        self.bar.close()
