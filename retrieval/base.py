"""The premise-retrieval protocol: the one interface that search, generators and training use."""
from __future__ import annotations

from typing import Optional, Protocol, Sequence, runtime_checkable

from envs.dataset import Premise, Pos


@runtime_checkable
class PremiseRetriever(Protocol):
    def retrieve(self, state: str, file_path: str, pos: Optional[Pos], k: int) -> list[tuple[Premise, float]]:
        """Top-`k` premises for a proof state, best first, among those accessible at `file_path`/`pos`
        (imported files plus the same file before `pos`; `pos=None` means the whole file)."""
        ...

    def retrieve_batch(
        self, states: Sequence[str], file_paths: Sequence[str], positions: Sequence[Optional[Pos]], k: int
    ) -> list[list[tuple[Premise, float]]]:
        ...
