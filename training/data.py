"""Training data from the traced dataset: (prompt → tactic) pairs with retrieved premises for SFT,
and statement + proof texts (+ mutants, + premise statements) for continual pretraining."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.loading import read_split
from proofsmith.dataset.schema import TheoremRecord
from proofsmith.prover.generators.prompt import TACTIC_SEP, focus_first_goal, model_input

IGNORE = -100


@dataclass(frozen=True)
class TacticExample:
    state: str
    tactic: str
    premises: tuple[str, ...] = ()  # retrieved premise texts, best first
    file_path: str = ""


def retrieved_premises(retriever: Any, state: str, record: TheoremRecord, k: int) -> tuple[str, ...]:
    if retriever is None or k <= 0:
        return ()
    return tuple(p.code for p, _ in retriever.retrieve(state, record.file_path, record.start, k))


def tactic_examples(records: Iterable[TheoremRecord], retriever: Any = None, k: int = 0) -> list[TacticExample]:
    out = []
    for r in records:
        for t in r.traced_tactics:
            if t.state_before.strip() and t.tactic.strip():
                out.append(
                    TacticExample(
                        t.state_before, t.tactic, retrieved_premises(retriever, t.state_before, r, k), r.file_path
                    )
                )
    return out


def proof_text(r: TheoremRecord) -> str:
    """A theorem as a Coq/Lean user would write it: statement, then its tactic script."""
    head = r.theorem_statement or r.full_name
    return head.strip() + "\nProof.\n" + "\n".join("  " + t.tactic for t in r.traced_tactics) + "\nQed."


def annotated_steps(r: TheoremRecord, focus: bool = True) -> list[str]:
    """A proof as the tracer saw it: each step's goal, `<tac>`, and the tactic run there."""
    return [
        f"{focus_first_goal(t.state_before) if focus else t.state_before.strip()}{TACTIC_SEP}{t.tactic.strip()}"
        for t in r.traced_tactics
        if t.state_before.strip() and t.tactic.strip()
    ]


def _split_pair(step: str) -> tuple[str, str]:
    """An annotated step `state<SEP>tactic` as (source, target)."""
    state, _, tactic = step.partition(TACTIC_SEP)
    return state, tactic


def pretraining_texts(
    records: Sequence[TheoremRecord],
    corpus: Corpus | None = None,
    extra: Sequence[str] = (),
    with_states: bool = True,
    focus: bool = True,
) -> list[str]:
    """Alchemy's continual-pretraining documents: statements + proofs (each proof also with its
    traced goals, so the base model already links goals to tactics), premise statements, mutants."""
    docs = [proof_text(r) for r in records if r.traced_tactics]
    if with_states:
        docs += [step for r in records for step in annotated_steps(r, focus)]
    if corpus is not None:
        docs += [p.code for f in corpus.files.values() for p in f.premises if p.code.strip()]
    return docs + list(extra)


@dataclass
class Mutants:
    """Mutated theorems for training, each with the name of the theorem it came from when known."""

    records: list[TheoremRecord] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # raw .v mutants (pretraining text only)
    original: dict[str, str] = field(default_factory=dict)  # mutant full name → original full name

    def add_rows(self, rows: Iterable[dict]) -> None:
        for d in rows:
            if "file_path" not in d:
                continue
            r = TheoremRecord.from_json(d, "coq")
            self.records.append(r)
            if (d.get("mutation") or {}).get("original"):
                self.original[r.full_name] = d["mutation"]["original"]

    def without(self, held_out: set[str]) -> list[TheoremRecord]:
        """The records, less mutants of held-out (val/test) theorems: those would leak the evaluation."""
        return [m for m in self.records if self.original.get(m.full_name) not in held_out]


def load_mutants(path: Path, into: Mutants | None = None) -> Mutants:
    """A `proofsmith mutate` output dir (every split: they are all mutants), a .json list or .jsonl of
    records, a directory of those, or raw .v texts."""
    path = Path(path)
    m = into if into is not None else Mutants()
    if path.is_dir():
        if (path / "random" / "train.json").is_file():
            for split in ("train", "val", "test"):
                f = path / "random" / f"{split}.json"
                if f.is_file():
                    m.add_rows(json.loads(f.read_text(encoding="utf-8")))
            return m
        for f in sorted(path.rglob("*.json")) + sorted(path.rglob("*.jsonl")) + sorted(path.rglob("*.v")):
            load_mutants(f, m)
    elif path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        m.add_rows(data if isinstance(data, list) else [])
    elif path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            m.add_rows(json.loads(line) for line in fh if line.strip())
    elif path.suffix == ".v":
        m.texts.append(path.read_text(errors="replace"))
    else:
        raise ValueError(f"cannot read mutants from {path}")
    return m


# --------------------------------------------------------------------------- tokenisation
class Encoder:
    """Turns examples into token ids the way `HFTacticGenerator` builds its inputs."""

    def __init__(
        self,
        tokenizer: Any,
        seq2seq: bool,
        max_input_tokens: int,
        max_target_tokens: int,
        p_drop: float = 0.5,
        seed: int = 0,
        focus: bool = True,
    ):
        self.tok = tokenizer
        self.focus = focus
        self.seq2seq = seq2seq
        self.max_in = max_input_tokens
        self.max_out = max_target_tokens
        self.p_drop = p_drop
        self.rng = random.Random(seed)
        self.tok.truncation_side = "left"

    def n_tokens(self, text: str) -> int:
        return len(self.tok(text, add_special_tokens=False)["input_ids"])

    def prompt(self, ex: TacticExample, train: bool) -> str:
        premises = [p for p in ex.premises if not (train and self.rng.random() < self.p_drop)]
        return model_input(ex.state, premises, self.max_in, self.n_tokens, self.seq2seq, self.focus)

    def _ids(self, text: str, limit: int) -> list[int]:
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        return ids[-limit:]  # keep the end: the goal, and the separator

    def sft(self, ex: TacticExample, train: bool = True) -> dict:
        src = self._ids(self.prompt(ex, train), self.max_in)
        tgt = self.tok(ex.tactic.strip(), add_special_tokens=False)["input_ids"][: self.max_out - 1] + [
            self.tok.eos_token_id
        ]
        if self.seq2seq:
            return {"input_ids": src + [self.tok.eos_token_id], "labels": tgt}
        return {"input_ids": src + tgt, "labels": [IGNORE] * len(src) + tgt}

    def lm_blocks(self, docs: Sequence[str], block: int) -> list[dict]:
        """Causal LM: documents joined by EOS and cut into blocks of `block` tokens."""
        stream: list[int] = []
        for d in docs:
            stream += self.tok(d, add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
        if not stream:  # no documents (an empty val split): no blocks, not one empty block
            return []
        return [
            {"input_ids": stream[i : i + block], "labels": stream[i : i + block]}
            for i in range(0, max(len(stream) - block // 4, 1), block)
        ]

    def statement_to_proof(self, records: Sequence[TheoremRecord], with_states: bool = True) -> list[dict]:
        """Seq2seq continual pretraining: statement → whole tactic script (and each traced goal → its
        tactic, the seq2seq form of `annotated_steps`)."""
        out = []
        for r in records:
            if not r.traced_tactics:
                continue
            head, _, proof = proof_text(r).partition("\nProof.\n")
            pairs = [(head, proof)]
            if with_states:
                pairs += [_split_pair(step) for step in annotated_steps(r, self.focus)]
            for src, tgt in pairs:
                out.append(
                    {
                        "input_ids": self._ids(src, self.max_in) + [self.tok.eos_token_id],
                        "labels": self.tok(tgt, add_special_tokens=False)["input_ids"][: self.max_in - 1]
                        + [self.tok.eos_token_id],
                    }
                )
        return out


def collate(pad_id: int):
    """Right-pad `input_ids` (pad) and `labels` (-100) to the longest in the batch."""
    import torch

    def fn(batch: list[dict]) -> dict:
        n_in = max(len(b["input_ids"]) for b in batch)
        n_lab = max(len(b["labels"]) for b in batch)
        ids = torch.full((len(batch), n_in), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), n_in), dtype=torch.long)
        labels = torch.full((len(batch), n_lab), IGNORE, dtype=torch.long)
        for i, b in enumerate(batch):
            ids[i, : len(b["input_ids"])] = torch.tensor(b["input_ids"])
            mask[i, : len(b["input_ids"])] = 1
            labels[i, : len(b["labels"])] = torch.tensor(b["labels"])
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return fn


def read_records(data_dir: Path, strategy: str, split: str) -> list[TheoremRecord]:
    path = Path(data_dir) / strategy / f"{split}.json"
    return read_split(path) if path.is_file() else []
