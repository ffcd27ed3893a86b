"""The premise-retrieval protocol: the one interface that search, generators and training use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from proofsmith.dataset.schema import Pos, Premise


@runtime_checkable
class PremiseRetriever(Protocol):
    def retrieve(self, state: str, file_path: str, pos: Pos | None, k: int) -> list[tuple[Premise, float]]:
        """Top-`k` premises for a proof state, best first, among those accessible at `file_path`/`pos`
        (imported files plus the same file before `pos`; `pos=None` means the whole file)."""
        ...

    def retrieve_batch(
        self, states: Sequence[str], file_paths: Sequence[str], positions: Sequence[Pos | None], k: int
    ) -> list[list[tuple[Premise, float]]]: ...
