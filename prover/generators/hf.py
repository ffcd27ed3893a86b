"""A Hugging Face language model as a tactic generator (ReProver's `RetrievalAugmentedGenerator`).

Works with seq2seq models (T5/ByT5: prompt → tactic) and decoder-only models (prompt + `<tac>` →
tactic), with or without a peft LoRA adapter. Input: the state with the top premises prepended
within a token budget; output: `num` distinct tactics with their sequence log-probabilities, from
beam search (length penalty 0, as in ReProver) or sampling.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from proofsmith.prover.generators.base import Candidate, dedupe_candidates
from proofsmith.prover.generators.prompt import model_input, strip_marks

GENERATOR_META = "generator.json"  # written by training: which base model + adapter make the generator


@dataclass
class HFGenerationConfig:
    max_input_tokens: int = 512
    max_new_tokens: int = 64
    strategy: str = "beam"  # "beam" or "sample"
    temperature: float = 1.0
    oversample: float = 1.5  # beams per requested tactic: decoded duplicates are dropped
    batch_size: int = 8
    num_premises: int = 10  # used only when the generator retrieves premises itself
    focus_goal: bool = True  # the first goal (+ a count of the others) rather than the whole state


def pick_device(device: str | None = None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def is_seq2seq(model: Any) -> bool:
    return bool(getattr(model.config, "is_encoder_decoder", False))


def load_model(
    name_or_path: str, adapter: str | None = None, device: torch.device | None = None, dtype: torch.dtype | None = None
):
    """(model, tokenizer) by Hub name or local path, with a peft adapter on top when given."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    device = device or pick_device()
    dtype = dtype or pick_dtype(device)
    if adapter is None and (Path(name_or_path) / "adapter_config.json").is_file():
        adapter = name_or_path
        name_or_path = json.loads((Path(adapter) / "adapter_config.json").read_text())["base_model_name_or_path"]
    config = AutoConfig.from_pretrained(name_or_path)
    auto = AutoModelForSeq2SeqLM if config.is_encoder_decoder else AutoModelForCausalLM
    model: Any = auto.from_pretrained(name_or_path, dtype=dtype)
    tok_src = adapter if adapter and (Path(adapter) / "tokenizer_config.json").is_file() else name_or_path
    tokenizer = AutoTokenizer.from_pretrained(tok_src)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    return model.to(device).eval(), tokenizer


class HFTacticGenerator:
    def __init__(self, model: Any, tokenizer: Any, config: HFGenerationConfig | None = None, retriever: Any = None):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or HFGenerationConfig()
        self.retriever = retriever  # a PremiseRetriever, used when the caller passes no premises
        self.seq2seq = is_seq2seq(model)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.truncation_side = "left"  # keep the goal (the end of the state) when too long

    @classmethod
    def from_pretrained(
        cls,
        path: str,
        adapter: str | None = None,
        device: str | None = None,
        retriever: Any = None,
        merge_adapter: bool = True,
        **overrides,
    ) -> HFTacticGenerator:
        """A Hub name, a model directory, an adapter directory, or a training output (`generator.json`).
        A LoRA adapter is folded into the weights for generation (same tactics, no per-layer detour)
        unless `merge_adapter=False`."""
        meta_file = Path(path) / GENERATOR_META
        settings: dict[str, Any] = {}
        if meta_file.is_file():
            meta = json.loads(meta_file.read_text())
            root = Path(path)
            base = str(root / meta["base"]) if (root / meta["base"]).exists() else meta["base"]
            adapter = adapter or (str(root / meta["adapter"]) if meta.get("adapter") else None)
            settings = {"num_premises": meta.get("num_premises", 0), **meta.get("generation", {})}
            path = base
        dev = pick_device(device)
        model, tok = load_model(path, adapter, dev)
        if merge_adapter and hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()
        names = {f.name for f in fields(HFGenerationConfig)}
        config = HFGenerationConfig(**{k: v for k, v in {**settings, **overrides}.items() if k in names})
        return cls(model, tok, config, retriever)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ------------------------------------------------------------------ prompts
    def n_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt(self, state: str, premises: Sequence[str]) -> str:
        """The model input for a state: premises within the token budget, then the state."""
        return model_input(
            state, premises, self.config.max_input_tokens, self.n_tokens, self.seq2seq, self.config.focus_goal
        )

    def _premises_for(self, state: str, premises: Sequence[str]) -> Sequence[str]:
        if premises or self.retriever is None:
            return premises
        return [p.code for p, _ in self.retriever.retrieve(state, "", None, self.config.num_premises)]

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def _generate_chunk(self, prompts: list[str], num: int) -> list[list[Candidate]]:
        cfg = self.config
        tok = self.tokenizer
        tok.padding_side = "right" if self.seq2seq else "left"
        enc = tok(
            prompts,
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=cfg.max_input_tokens,
            add_special_tokens=self.seq2seq,
        ).to(self.device)
        n_ret = max(num, math.ceil(num * cfg.oversample))
        common = dict(
            max_new_tokens=cfg.max_new_tokens,
            num_return_sequences=n_ret,
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            min_new_tokens=1,
        )
        if cfg.strategy == "sample":
            out = self.model.generate(**enc, do_sample=True, temperature=cfg.temperature, top_k=0, **common)
        else:
            out = self.model.generate(
                **enc, do_sample=False, num_beams=n_ret, length_penalty=0.0, early_stopping=True, **common
            )
        seqs = out.sequences if self.seq2seq else out.sequences[:, enc["input_ids"].shape[1] :]
        if cfg.strategy == "sample" or getattr(out, "sequences_scores", None) is None:
            trans = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
            gen = seqs[:, -trans.shape[1] :] if trans.shape[1] <= seqs.shape[1] else seqs
            mask = gen.ne(tok.pad_token_id)
            scores = torch.where(mask[:, : trans.shape[1]], trans, torch.zeros_like(trans)).float().sum(-1)
        else:
            scores = out.sequences_scores.float()
        texts = tok.batch_decode(seqs, skip_special_tokens=True)
        results = []
        for i in range(len(prompts)):
            cands = [(strip_marks(texts[i * n_ret + j]).strip(), float(scores[i * n_ret + j])) for j in range(n_ret)]
            results.append(dedupe_candidates(cands, num))
        return results

    def generate_batch(
        self, states: Sequence[str], premises: Sequence[Sequence[str]], num: int
    ) -> list[list[Candidate]]:
        prompts = [self.prompt(s, self._premises_for(s, p)) for s, p in zip(states, premises)]
        out: list[list[Candidate]] = []
        bs = max(1, self.config.batch_size)
        for i in range(0, len(prompts), bs):
            out += self._generate_chunk(prompts[i : i + bs], num)
        return out

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        return self.generate_batch([state_pp], [premises], num)[0]

    def describe(self) -> dict:
        return {"model": type(self.model).__name__, "seq2seq": self.seq2seq, **asdict(self.config)}


def from_spec(arg: str) -> HFTacticGenerator:
    """`hf:PATH`: a `proofsmith train` output, a model/adapter directory, or a Hub name."""
    return HFTacticGenerator.from_pretrained(arg)
