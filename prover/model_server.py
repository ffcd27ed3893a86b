"""A shared generator actor: one model serves every prover, batching their requests (the GPU setup).

Provers send `generate(state, premises, num)`; the server gathers requests for up to `wait_ms` (or
`max_batch` of them) and answers them with one `generate_batch` call per distinct `num`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import ray

from proofsmith.prover.generators.base import Candidate


class GeneratorServer:
    def __init__(self, spec: str, max_batch: int = 16, wait_ms: float = 10.0):
        from proofsmith.prover.generators.factory import make_generator

        self.generator = make_generator(spec)
        self.max_batch, self.wait = max_batch, wait_ms / 1000.0
        self.pending: list[tuple[str, list[str], int, asyncio.Future]] = []
        self.flush_scheduled = False
        self.batches: list[int] = []  # sizes, for tests and tuning

    def required_imports(self) -> tuple[str, ...]:
        return tuple(getattr(self.generator, "required_imports", ()))

    def batch_sizes(self) -> list[int]:
        return list(self.batches)

    async def generate(self, state: str, premises: list[str], num: int) -> list[Candidate]:
        fut = asyncio.get_running_loop().create_future()
        self.pending.append((state, premises, num, fut))
        if len(self.pending) >= self.max_batch:
            self._flush()
        elif not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_later(self.wait, self._flush)
        return await fut

    def _flush(self) -> None:
        self.flush_scheduled = False
        batch, self.pending = self.pending, []
        if not batch:
            return
        self.batches.append(len(batch))
        for num in {n for _, _, n, _ in batch}:
            group = [b for b in batch if b[2] == num]
            try:
                outs = self.generator.generate_batch([b[0] for b in group], [b[1] for b in group], num)
                for (_, _, _, fut), out in zip(group, outs):
                    fut.set_result(out)
            except Exception as e:  # every waiting prover gets the error, none hangs
                for *_, fut in group:
                    if not fut.done():
                        fut.set_exception(e)


class RemoteGenerator:
    """The `TacticGenerator` a prover uses when the model lives in a `GeneratorServer` actor."""

    def __init__(self, handle: Any):
        self.handle = handle
        self.required_imports = ray.get(handle.required_imports.remote())

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        return ray.get(self.handle.generate.remote(state_pp, list(premises), num))

    def generate_batch(self, states, premises, num):
        refs = [self.handle.generate.remote(s, list(p), num) for s, p in zip(states, premises)]
        return ray.get(refs)
