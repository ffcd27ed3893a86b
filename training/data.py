"""Training data from the traced dataset: (prompt → tactic) pairs with retrieved premises for SFT,
and statement + proof texts (+ mutants, + premise statements) for continual pretraining."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from envs.dataset import Corpus, TheoremRecord, load_splits, read_split
from prover.generators.prompt import TACTIC_SEP, augment_state

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
                out.append(TacticExample(t.state_before, t.tactic, retrieved_premises(retriever, t.state_before, r, k),
                                         r.file_path))
    return out


def proof_text(r: TheoremRecord) -> str:
    """A theorem as a Coq/Lean user would write it: statement, then its tactic script."""
    head = r.theorem_statement or r.full_name
    return head.strip() + "\nProof.\n" + "\n".join("  " + t.tactic for t in r.traced_tactics) + "\nQed."


def pretraining_texts(records: Sequence[TheoremRecord], corpus: Optional[Corpus] = None,
                      extra: Sequence[str] = ()) -> list[str]:
    """Alchemy's continual-pretraining documents: statements + proofs, premise statements, mutants."""
    docs = [proof_text(r) for r in records if r.traced_tactics]
    if corpus is not None:
        docs += [p.code for f in corpus.files.values() for p in f.premises if p.code.strip()]
    return docs + list(extra)


def load_mutants(path: Path) -> tuple[list[TheoremRecord], list[str]]:
    """Mutants as theorem records (a dataset dir, a .json list or .jsonl of records) or raw .v texts."""
    path = Path(path)
    if path.is_dir():
        if (path / "random" / "train.json").is_file():
            return load_splits(path, "random").get("train", []), []
        recs: list[TheoremRecord] = []
        for f in sorted(path.rglob("*.json")) + sorted(path.rglob("*.jsonl")):
            recs += load_mutants(f)[0]
        return recs, [f.read_text(errors="replace") for f in sorted(path.rglob("*.v"))]
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        return ([TheoremRecord.from_json(d, "coq") for d in data if "file_path" in d] if isinstance(data, list) else []), []
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        return [TheoremRecord.from_json(d, "coq") for d in rows if "file_path" in d], []
    if path.suffix == ".v":
        return [], [path.read_text(errors="replace")]
    raise ValueError(f"cannot read mutants from {path}")


# --------------------------------------------------------------------------- tokenisation
class Encoder:
    """Turns examples into token ids the way `HFTacticGenerator` builds its inputs."""

    def __init__(self, tokenizer: Any, seq2seq: bool, max_input_tokens: int, max_target_tokens: int,
                 p_drop: float = 0.5, seed: int = 0):
        self.tok = tokenizer
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
        sep = 0 if self.seq2seq else self.n_tokens(TACTIC_SEP)
        text = augment_state(ex.state, premises, self.max_in - sep - 2, self.n_tokens)
        return text if self.seq2seq else text + TACTIC_SEP

    def _ids(self, text: str, limit: int) -> list[int]:
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        return ids[-limit:]  # keep the end: the goal, and the separator

    def sft(self, ex: TacticExample, train: bool = True) -> dict:
        src = self._ids(self.prompt(ex, train), self.max_in)
        tgt = self.tok(ex.tactic.strip(), add_special_tokens=False)["input_ids"][: self.max_out - 1] + [self.tok.eos_token_id]
        if self.seq2seq:
            return {"input_ids": src + [self.tok.eos_token_id], "labels": tgt}
        return {"input_ids": src + tgt, "labels": [IGNORE] * len(src) + tgt}

    def lm_blocks(self, docs: Sequence[str], block: int) -> list[dict]:
        """Causal LM: documents joined by EOS and cut into blocks of `block` tokens."""
        stream: list[int] = []
        for d in docs:
            stream += self.tok(d, add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
        return [{"input_ids": stream[i: i + block], "labels": stream[i: i + block]}
                for i in range(0, max(len(stream) - block // 4, 1), block)]

    def statement_to_proof(self, records: Sequence[TheoremRecord]) -> list[dict]:
        """Seq2seq continual pretraining: statement → whole tactic script."""
        out = []
        for r in records:
            if r.traced_tactics:
                text = proof_text(r)
                head, _, proof = text.partition("\nProof.\n")
                out.append({"input_ids": self._ids(head, self.max_in) + [self.tok.eos_token_id],
                            "labels": self.tok(proof, add_special_tokens=False)["input_ids"][: self.max_in - 1]
                            + [self.tok.eos_token_id]})
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
