"""Build a generator from a command-line spec such as `auto` or `ensemble:auto+auto`.

`check_spec` validates a spec without loading anything heavy (no torch, no model, no index): the
job driver calls it before any worker starts, so a typo fails at once instead of killing every
worker (and leaving an `error` row per theorem in the results file).
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from proofsmith.prover.generators.automation import AutomationGenerator
from proofsmith.prover.generators.base import TacticGenerator
from proofsmith.prover.generators.ensemble import EnsembleGenerator
from proofsmith.prover.generators.online import ONLINE_OPTION

# name → factory(argument after the colon); later issues register `knn` and `hf` here.
REGISTRY: dict[str, Callable[[str], TacticGenerator]] = {
    "auto": lambda arg: AutomationGenerator(),
}
# name → check(argument): raises GeneratorSpecError when the argument cannot work, returns it normalised.
CHECKS: dict[str, Callable[[str], str]] = {}

GENERATOR_META = "generator.json"  # = generators.hf.GENERATOR_META (not imported: that pulls in torch)
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class GeneratorSpecError(ValueError):
    """A generator spec that cannot work: unknown name, missing index or model. One-line message."""


def register(name: str, factory: Callable[[str], TacticGenerator], check: Callable[[str], str] | None = None) -> None:
    REGISTRY[name] = factory
    if check is not None:
        CHECKS[name] = check


def make_generator(spec: str) -> TacticGenerator:
    name, _, arg = spec.partition(":")
    if name == "ensemble":
        return EnsembleGenerator([make_generator(part) for part in arg.split("+") if part])
    if name not in REGISTRY:
        raise GeneratorSpecError(f"{spec!r}: unknown generator; available: {', '.join(sorted(REGISTRY))}, ensemble:A+B")
    return REGISTRY[name](arg)


def check_spec(spec: str) -> str:
    """Validate `spec` (every member of an ensemble); returns it with local paths made absolute, so
    the same job run from another directory has the same spec."""
    name, sep, arg = spec.strip().partition(":")
    if name == "ensemble":
        parts = arg.split("+")
        if not arg or not all(parts):
            raise GeneratorSpecError(f"{spec}: give the members as ensemble:A+B (e.g. ensemble:auto+knn:DIR)")
        return "ensemble:" + "+".join(check_spec(p) for p in parts)
    if name not in REGISTRY:
        raise GeneratorSpecError(f"{spec!r}: unknown generator; available: {', '.join(sorted(REGISTRY))}, ensemble:A+B")
    if name in CHECKS:
        return f"{name}:{CHECKS[name](arg)}"
    return name + sep + arg


def spec_members(spec: str) -> list[str]:
    """The members of an ensemble spec (`ensemble:auto+knn:DIR` → `auto`, `knn:DIR`), or the spec itself."""
    name, _, arg = spec.strip().partition(":")
    return [m for p in arg.split("+") if p for m in spec_members(p)] if name == "ensemble" else [spec.strip()]


def split_leak(spec: str, split: str) -> str | None:
    """Why `spec` would see test theorems of `split` (`novel_premises/test`...), or None: `knn:DATASET_DIR`
    indexes the dataset's random/train split, which holds the theorems of its novel_* splits."""
    strategy = split.partition("/")[0]
    if strategy == "random":
        return None
    for member in spec_members(spec):
        name, _, path = member.partition(":")
        path = path.partition(ONLINE_OPTION)[0]  # the online split is shown per theorem, never in the index
        if name == "knn" and (Path(path) / "random" / "train.json").is_file():
            return (
                f"{member}: a dataset directory is indexed from its random/train split, which holds "
                f"theorems of {split}; pass knn:{path}/{strategy}/train.json"
            )
    return None


def check_knn_path(arg: str) -> str:
    """`knn:PATH[#online=SPLIT.json]`: a saved k-NN index (knn.json + examples.jsonl + tfidf.json +
    vectors.npz, or the index.faiss of an index saved before the sparse vectors), a traced dataset (its
    random/train split) or one traced split file (`DIR/novel_packages/train.json`); `#online=` names a
    traced split file whose proofs join the index, each visible to the theorems that can see it."""
    arg, sep, online = arg.partition(ONLINE_OPTION)
    if sep:
        if not online.endswith(".json") or not Path(online).expanduser().is_file():
            raise GeneratorSpecError(
                f"knn:...{ONLINE_OPTION}{online}: not a traced split file (DIR/STRATEGY/SPLIT.json)"
            )
        return f"{check_knn_path(arg)}{ONLINE_OPTION}{Path(online).expanduser().resolve()}"
    if not arg:
        raise GeneratorSpecError("knn: needs a path: knn:INDEX_DIR, knn:DATASET_DIR or knn:SPLIT.json")
    path = Path(arg).expanduser()
    if not path.exists():
        raise GeneratorSpecError(f"knn:{arg}: no such directory")
    if path.is_file() and path.suffix == ".json":
        return str(path.resolve())
    if not path.is_dir():
        raise GeneratorSpecError(f"knn:{arg}: not a directory (expected a k-NN index or a traced dataset)")
    if (path / "knn.json").is_file():
        missing = [f for f in ("examples.jsonl", "tfidf.json") if not (path / f).is_file()]
        if not (path / "vectors.npz").is_file() and not (path / "index.faiss").is_file():
            missing.append("vectors.npz")
        if missing:
            raise GeneratorSpecError(f"knn:{arg}: incomplete k-NN index (missing {', '.join(missing)})")
    elif not (path / "random" / "train.json").is_file():
        raise GeneratorSpecError(f"knn:{arg}: neither a k-NN index (knn.json) nor a traced dataset (random/train.json)")
    return str(path.resolve())


def looks_like_path(arg: str) -> bool:
    """Not a Hub name (`name` or `org/name`), or one whose first part is a local directory (`runs/model`)."""
    return not HUB_ID.match(arg) or ("/" in arg and Path(arg.split("/")[0]).is_dir())


def _hub_offline() -> bool:
    return any(os.environ.get(v, "") not in ("", "0") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def check_model_path(arg: str, what: str, extra: tuple[str, ...] = ()) -> str:
    """A Hugging Face model: a local directory holding `config.json` (or one of `extra`, e.g. an adapter's
    `adapter_config.json`), or a Hub name. `what` names it in messages. Returns local paths absolute;
    Hub names as given (checked against the local cache only when the Hub is off: HF_HUB_OFFLINE)."""
    if not arg:
        raise GeneratorSpecError(f"{what}: needs a model directory or a Hugging Face model name")
    path = Path(arg).expanduser()
    if path.exists():
        marks = ("config.json", *extra)
        if not path.is_dir() or not any((path / m).is_file() for m in marks):
            raise GeneratorSpecError(f"{what}: not a model directory (no {' or '.join(marks)})")
        return str(path.resolve())
    if looks_like_path(arg):
        raise GeneratorSpecError(f"{what}: no such directory")
    if _hub_offline():
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(arg, "config.json"), str):
            raise GeneratorSpecError(f"{what}: not a local directory, and not in the Hugging Face cache (offline)")
    return arg


def check_hf_path(arg: str) -> str:
    """`hf:PATH`: a `proofsmith train` output (generator.json), a model or adapter directory, or a Hub name."""
    what = f"hf:{arg}"
    if not arg:
        raise GeneratorSpecError("hf: needs a model: hf:MODEL_DIR or hf:HUB_NAME")
    path = Path(arg).expanduser()
    meta = path / GENERATOR_META
    if not meta.is_file():
        return check_model_path(arg, what, extra=("adapter_config.json",))
    try:
        info = json.loads(meta.read_text())
        base, adapter = info["base"], info.get("adapter")
    except (ValueError, KeyError, TypeError) as e:
        raise GeneratorSpecError(f"{what}: unreadable {GENERATOR_META} ({type(e).__name__}: {e})") from None
    if adapter and not (path / adapter).is_dir():
        raise GeneratorSpecError(f"{what}: its adapter {path / adapter} is missing")
    local_base = path / base
    check_model_path(str(local_base) if local_base.exists() else base, f"{what}: base model {base}")
    return str(path.resolve())


def check_actions_arg(arg: str) -> str:
    """`actions` or `actions:K`: K (>= 0) retrieved premises become apply/rewrite candidates;
    normalised to `actions:K` (the default K written out)."""
    if arg and not arg.isdigit():
        raise GeneratorSpecError(f"actions:{arg}: the argument is how many retrieved premises to use, e.g. actions:8")
    return str(int(arg)) if arg else "8"  # = generators.actions.DEFAULT_PREMISES


# Model-backed generators import torch/faiss only when asked for.
register(
    "actions",
    lambda arg: importlib.import_module("proofsmith.prover.generators.actions").from_spec(arg),
    check_actions_arg,
)
register("knn", lambda arg: importlib.import_module("proofsmith.prover.generators.knn").from_spec(arg), check_knn_path)
register("hf", lambda arg: importlib.import_module("proofsmith.prover.generators.hf").from_spec(arg), check_hf_path)


def check_rerank_arg(arg: str) -> str:
    """`rerank:POLICY_DIR:INNER_SPEC`: a fitted portfolio policy (`prover.policy`, policy.json +
    tfidf.json + arrays.npz) re-ranking INNER_SPEC's candidates (default `auto`); the inner spec is
    checked too. Normalised to the absolute directory and the checked inner spec."""
    directory, _, inner = arg.partition(":")  # = policy.split_rerank_arg (not imported: that pulls in numpy)
    if not directory:
        raise GeneratorSpecError("rerank: needs a policy: rerank:POLICY_DIR or rerank:POLICY_DIR:INNER_SPEC")
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise GeneratorSpecError(f"rerank:{directory}: no such directory")
    missing = [f for f in ("policy.json", "tfidf.json", "arrays.npz") if not (path / f).is_file()]
    if missing:
        raise GeneratorSpecError(f"rerank:{directory}: not a fitted portfolio policy (missing {', '.join(missing)})")
    return f"{path.resolve()}:{check_spec(inner or 'auto')}"


register("rerank", lambda arg: importlib.import_module("proofsmith.prover.policy").from_spec(arg), check_rerank_arg)


def check_openai_arg(arg: str) -> str:
    """`openai:MODEL@URL[#option=value&...]`: a model behind an OpenAI-compatible server; the spec is
    parsed here, the server is not asked (`prove` probes it before the job starts)."""
    module = importlib.import_module("proofsmith.prover.generators.openai_client")
    try:
        return module.check_spec_arg(arg)
    except module.SpecError as e:
        raise GeneratorSpecError(str(e)) from None


register(
    "openai",
    lambda arg: importlib.import_module("proofsmith.prover.generators.openai_client").from_spec(arg),
    check_openai_arg,
)
