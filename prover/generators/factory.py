"""Build a generator from a command-line spec such as `auto` or `ensemble:auto+auto`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from proofsmith.prover.generators.automation import AutomationGenerator
from proofsmith.prover.generators.base import TacticGenerator
from proofsmith.prover.generators.ensemble import EnsembleGenerator

# name → factory(argument after the colon); later issues register `knn` and `hf` here.
REGISTRY: dict[str, Callable[[str], TacticGenerator]] = {
    "auto": lambda arg: AutomationGenerator(),
}


def register(name: str, factory: Callable[[str], TacticGenerator]) -> None:
    REGISTRY[name] = factory


def make_generator(spec: str) -> TacticGenerator:
    name, _, arg = spec.partition(":")
    if name == "ensemble":
        return EnsembleGenerator([make_generator(part) for part in arg.split("+") if part])
    if name not in REGISTRY:
        raise ValueError(f"unknown generator {spec!r}; available: {', '.join(sorted(REGISTRY))}, ensemble:A+B")
    return REGISTRY[name](arg)


# Model-backed generators import torch/faiss only when asked for.
register("knn", lambda arg: importlib.import_module("proofsmith.prover.generators.knn").from_spec(arg))
register("hf", lambda arg: importlib.import_module("proofsmith.prover.generators.hf").from_spec(arg))
