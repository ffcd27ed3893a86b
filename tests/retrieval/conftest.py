"""A hand-made corpus and dataset with a known import DAG and positions.

Files: Base.v <- Mid.v <- Top.v (Top imports Mid directly, Base transitively); Other.v is unrelated.
Each premise `opK` has code mentioning a unique symbol `fK`; tactic states mention the symbol of the
premise they use, so the mapping is learnable and lexically visible."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import write_dataset
from proofsmith.dataset.schema import CorpusFile, Premise, Provenance, TheoremRecord, TracedTactic
from proofsmith.retrieval.corpus import PremiseCorpus
from proofsmith.retrieval.encoder import SmallEncoderConfig, build_small_encoder

# These models are tiny: one thread is faster than several on a shared machine.
torch.set_num_threads(1)

FILES = {"Base.v": (), "Mid.v": ("Base.v",), "Top.v": ("Mid.v",), "Other.v": ()}
IMPORTED = {"Top.v": ("Base.v", "Mid.v"), "Mid.v": ("Base.v",)}  # transitive closure, by hand
PER_FILE = 8

TINY = SmallEncoderConfig(
    vocab_size=300, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, max_len=48
)


def premise_name(path: str, j: int) -> str:
    return f"Toy.{path[:-2]}.op{j}"


def make_corpus() -> Corpus:
    files = []
    for path, imports in FILES.items():
        prems = []
        for j in range(PER_FILE):
            line = 10 * j + 1
            sym = f"f{path[0].lower()}{j}"
            prems.append(
                Premise(
                    premise_name(path, j),
                    f"Lemma op{j} : forall n : nat, {sym} n = g n.",
                    (line, 1),
                    (line + 3, 4),
                    "lemma",
                )
            )
        files.append(CorpusFile(path, imports, tuple(prems)))
    return Corpus(files)


def make_records() -> list[TheoremRecord]:
    """Theorems in Top.v and Mid.v whose tactics each use one accessible premise."""
    recs = []
    for path in ("Top.v", "Mid.v"):
        for j in range(PER_FILE):
            start = (10 * j + 5, 1)  # after premise j of the same file, before premise j+1
            tactics = []
            # imported files, plus this file's premises up to j (premise j ends just before `start`)
            usable = [(p, i) for p in IMPORTED[path] for i in range(PER_FILE)] + [(path, i) for i in range(j + 1)]
            for t, (p, i) in enumerate(usable[j % 3 :: 3][:3] + [(path, j)]):
                sym = f"f{p[0].lower()}{i}"
                name = premise_name(p, i)
                prov = Provenance(name, p, (10 * i + 1, 7), (10 * i + 1, 10))
                tactics.append(
                    TracedTactic(
                        f"rewrite op{i}.",
                        (f"rewrite <a>op{i}</a>.", (prov,)),
                        f"n : nat\nH{t} : n = n\n⊢ {sym} (S n) = g (S n)",
                        "no goals",
                    )
                )
            recs.append(
                TheoremRecord(
                    "", "", path, f"Toy.{path[:-2]}.thm{j}", start, (start[0] + 3, 4), tuple(tactics), backend="coq"
                )
            )
    return recs


@pytest.fixture(scope="session")
def toy_corpus() -> PremiseCorpus:
    return PremiseCorpus(make_corpus())


@pytest.fixture(scope="session")
def toy_records() -> list[TheoremRecord]:
    return make_records()


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("toy_data")
    write_dataset(out, make_records(), make_corpus(), {"name": "toy"}, num_eval=3)
    return out


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory, toy_corpus, toy_records) -> Path:
    texts = toy_corpus.texts + [t.state_before for r in toy_records for t in r.traced_tactics]
    return build_small_encoder(texts * 3, tmp_path_factory.mktemp("tiny_encoder"), TINY, seed=0)
