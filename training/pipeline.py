"""`proofsmith train`: (scratch tokenizer + model) → stage 1 continual pretraining on statements +
proofs (+ mutants) → stage 2 LoRA SFT on (retrieval-augmented prompt → tactic) → adapter (+ merged
model) and a `generator.json` that `hf:OUT` loads. Every stage resumes from its last checkpoint."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from proofsmith.dataset.corpus import Corpus
from proofsmith.prover.generators.hf import GENERATOR_META, is_seq2seq, pick_device
from proofsmith.training import data as D
from proofsmith.training.callbacks import LossLog, TimeBudget, plot_losses, read_log
from proofsmith.training.lora import attach_lora
from proofsmith.training.premises import make_retriever
from proofsmith.training.scratch import VOCAB_SIZES, scratch_model

# Steps per stage for the scratch sizes: `small` takes about 29 minutes on 2 CPU cores (README, Training).
DEFAULT_STEPS = {"tiny": (30, 60), "small": (3000, 1000), "base": (20000, 8000)}


@dataclass
class TrainConfig:
    data: Path
    out: Path
    init: str = "scratch"  # or a Hub name / local path of a pretrained model
    config: str = "small"  # scratch size: tiny | small | base
    arch: str = "causal"  # scratch architecture: causal (Llama-style) | seq2seq (T5-style)
    strategy: str = "random"
    mutants: list[Path] = field(default_factory=list)
    focus_goal: bool = True  # prompts show the first goal (+ a count of the others), not the whole state
    pretrain_with_states: bool = True  # stage 1 also reads proofs annotated with their traced goals
    retriever: str = "bm25"  # over DATA/corpus.jsonl; "none" when the dataset has no corpus
    num_premises: int = 3
    max_input_tokens: int = 192
    max_target_tokens: int = 64
    stage1_steps: int | None = None
    stage2_steps: int | None = None
    stage1_minutes: float | None = None
    stage2_minutes: float | None = None
    batch_size: int = 16
    grad_accum: int = 1
    lr_pretrain: float = 1e-3
    lr_lora: float = 2e-3
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] | None = None
    eval_every: int = 500
    max_eval: int = 256
    merge: bool = False
    device: str | None = None
    seed: int = 0
    progress: bool = True

    def steps(self) -> tuple[int, int]:
        s1, s2 = DEFAULT_STEPS.get(self.config, DEFAULT_STEPS["small"])
        if self.init != "scratch":
            s1 = 0  # a pretrained model goes straight to SFT unless asked for continual pretraining
        return (
            s1 if self.stage1_steps is None else self.stage1_steps,
            s2 if self.stage2_steps is None else self.stage2_steps,
        )


@dataclass
class TrainResult:
    out: Path
    stage1: dict
    stage2: dict
    generator: Path
    loss_png: Path | None


def _last_checkpoint(d: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(d)) if d.is_dir() else None


def _tokenizer(cfg: TrainConfig, texts: list[str]):
    from transformers import AutoTokenizer

    tok_dir = cfg.out / "tokenizer"
    if cfg.init != "scratch":
        tok = AutoTokenizer.from_pretrained(cfg.init)
    elif (tok_dir / "tokenizer.json").is_file():
        tok = AutoTokenizer.from_pretrained(tok_dir)
    else:
        from proofsmith.training.tokenizer import train_bpe_tokenizer

        tok = train_bpe_tokenizer(texts, VOCAB_SIZES.get(cfg.config, 4096), tok_dir)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def _base_model(cfg: TrainConfig, tok: Any, dtype: torch.dtype):
    if cfg.init == "scratch":
        torch.manual_seed(cfg.seed)
        return scratch_model(
            cfg.config, cfg.arch, tok, max_positions=max(cfg.max_input_tokens + cfg.max_target_tokens, 512) * 2
        )
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    auto = AutoModelForSeq2SeqLM if AutoConfig.from_pretrained(cfg.init).is_encoder_decoder else AutoModelForCausalLM
    return auto.from_pretrained(cfg.init, dtype=dtype)


def _args(cfg: TrainConfig, out: Path, steps: int, lr: float, device: torch.device, has_eval: bool):
    from transformers import TrainingArguments

    eval_every = max(1, min(cfg.eval_every, steps))
    return TrainingArguments(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=lr,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, steps // 20),
        weight_decay=0.01,
        max_grad_norm=1.0,
        logging_steps=max(1, min(10, steps // 10)),
        logging_first_step=True,
        save_steps=eval_every,
        save_total_limit=2,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=eval_every if has_eval else None,
        report_to=[],
        use_cpu=device.type == "cpu",
        bf16=device.type == "cuda" and torch.cuda.is_bf16_supported(),
        dataloader_num_workers=0,
        remove_unused_columns=False,
        seed=cfg.seed,
        disable_tqdm=not cfg.progress,
        save_only_model=False,
    )


def _train(
    cfg: TrainConfig,
    model: Any,
    tok: Any,
    stage: str,
    train_rows: list[dict],
    eval_rows: list[dict],
    steps: int,
    lr: float,
    minutes: float | None,
    device: torch.device,
) -> dict:
    from datasets import Dataset
    from transformers import Trainer

    out = cfg.out / stage
    trainer = Trainer(
        model=model,
        args=_args(cfg, out, steps, lr, device, bool(eval_rows)),
        train_dataset=Dataset.from_list(train_rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        data_collator=D.collate(tok.pad_token_id),
        callbacks=[LossLog(cfg.out / "loss.jsonl", stage), TimeBudget(minutes)],
    )
    t0 = time.time()
    last = _last_checkpoint(out)
    done = json.loads((Path(last) / "trainer_state.json").read_text())["global_step"] if last else 0
    if last and done >= steps:  # killed after the final checkpoint: load it rather than step again
        trainer._load_from_checkpoint(last)
        trainer.state.global_step = done
        info = {"steps": done, "seconds": 0.0, "train_loss": None, "examples": len(train_rows), "from": last}
    else:
        res = trainer.train(resume_from_checkpoint=last)
        info = {
            "steps": trainer.state.global_step,
            "seconds": round(time.time() - t0, 1),
            "train_loss": round(res.training_loss, 4),
            "examples": len(train_rows),
        }
    if eval_rows:
        info["eval_loss"] = round(trainer.evaluate()["eval_loss"], 4)
    return info


def _loss_span(log: list[dict], stage: str) -> dict:
    pts = [r["loss"] for r in log if r["stage"] == stage and "loss" in r]
    return {"first_logged_loss": pts[0], "last_logged_loss": pts[-1]} if pts else {}


def run_training(cfg: TrainConfig) -> TrainResult:
    cfg.out = Path(cfg.out)
    cfg.out.mkdir(parents=True, exist_ok=True)
    device = pick_device(cfg.device)
    dtype = torch.float32  # trained in fp32 (+ bf16 autocast on CUDA via TrainingArguments)
    train_recs = D.read_records(cfg.data, cfg.strategy, "train")
    val_recs = D.read_records(cfg.data, cfg.strategy, "val")
    if not train_recs:
        raise FileNotFoundError(f"no training theorems under {cfg.data}/{cfg.strategy}/train.json")
    corpus_file = Path(cfg.data) / "corpus.jsonl"
    corpus = Corpus.read_jsonl(corpus_file) if corpus_file.is_file() else None
    mutants = D.Mutants()
    for m in cfg.mutants:
        D.load_mutants(m, mutants)
    held_out = {r.full_name for split in ("val", "test") for r in D.read_records(cfg.data, cfg.strategy, split)}
    mutant_recs, mutant_texts = mutants.without(held_out), mutants.texts
    retriever_spec = "none" if cfg.retriever == "bm25" and corpus is None else cfg.retriever  # nothing to retrieve from
    retriever = make_retriever(retriever_spec, cfg.data)
    k = cfg.num_premises if retriever is not None else 0
    train_ex = D.tactic_examples(train_recs + mutant_recs, retriever, k)
    val_ex = D.tactic_examples(val_recs, retriever, k)[: cfg.max_eval]
    docs = D.pretraining_texts(train_recs + mutant_recs, corpus, mutant_texts, cfg.pretrain_with_states, cfg.focus_goal)

    tok = _tokenizer(cfg, docs + [e.state for e in train_ex] + [e.tactic for e in train_ex])
    s1_steps, s2_steps = cfg.steps()
    final1 = cfg.out / "stage1" / "final"
    stage1: dict = {"skipped": True}
    if s1_steps > 0 and not (final1 / "config.json").is_file():
        model = _base_model(cfg, tok, dtype)
        enc = D.Encoder(
            tok, is_seq2seq(model), cfg.max_input_tokens, cfg.max_target_tokens, seed=cfg.seed, focus=cfg.focus_goal
        )
        if is_seq2seq(model):
            rows = enc.statement_to_proof(train_recs + mutant_recs, cfg.pretrain_with_states)
            ev = enc.statement_to_proof(val_recs, cfg.pretrain_with_states)[: cfg.max_eval]
        else:
            rows = enc.lm_blocks(docs, cfg.max_input_tokens)
            ev = enc.lm_blocks(
                D.pretraining_texts(val_recs, None, (), cfg.pretrain_with_states, cfg.focus_goal), cfg.max_input_tokens
            )[: cfg.max_eval]
        stage1 = _train(cfg, model, tok, "stage1", rows, ev, s1_steps, cfg.lr_pretrain, cfg.stage1_minutes, device)
        model.save_pretrained(final1)
        tok.save_pretrained(final1)
        (final1 / "stage.json").write_text(json.dumps(stage1, indent=1))
    elif (final1 / "stage.json").is_file():
        stage1 = {**json.loads((final1 / "stage.json").read_text()), "resumed": True}
    base_path = str(final1) if (final1 / "config.json").is_file() else cfg.init
    if base_path == "scratch":  # no pretraining asked for: save the fresh model as the base
        model = _base_model(cfg, tok, dtype)
        model.save_pretrained(final1)
        tok.save_pretrained(final1)
        base_path = str(final1)

    adapter_dir = cfg.out / "stage2" / "adapter"
    stage2: dict = {"skipped": True}
    if not (adapter_dir / "adapter_config.json").is_file():
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

        auto = (
            AutoModelForSeq2SeqLM if AutoConfig.from_pretrained(base_path).is_encoder_decoder else AutoModelForCausalLM
        )
        model = attach_lora(
            auto.from_pretrained(base_path, dtype=dtype),
            cfg.lora_r,
            cfg.lora_alpha,
            cfg.lora_dropout,
            cfg.target_modules,
        )
        enc = D.Encoder(
            tok, is_seq2seq(model), cfg.max_input_tokens, cfg.max_target_tokens, seed=cfg.seed, focus=cfg.focus_goal
        )
        rows = [enc.sft(e, train=True) for e in train_ex]
        ev = [enc.sft(e, train=False) for e in val_ex]
        stage2 = _train(cfg, model, tok, "stage2", rows, ev, s2_steps, cfg.lr_lora, cfg.stage2_minutes, device)
        stage2["trainable_params"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
        stage2["total_params"] = sum(p.numel() for p in model.parameters())
        model.save_pretrained(adapter_dir)
        tok.save_pretrained(adapter_dir)
        (adapter_dir / "stage.json").write_text(json.dumps(stage2, indent=1))
        if cfg.merge:
            merge_adapter(base_path, adapter_dir, cfg.out / "merged")
    else:
        stage2 = {**json.loads((adapter_dir / "stage.json").read_text()), "resumed": True}
        if cfg.merge and not (cfg.out / "merged" / "config.json").is_file():
            merge_adapter(base_path, adapter_dir, cfg.out / "merged")

    rel_base = str(Path(base_path).relative_to(cfg.out)) if Path(base_path).is_relative_to(cfg.out) else base_path
    meta = {
        "base": rel_base,
        "adapter": "stage2/adapter",
        "merged": "merged" if cfg.merge else None,
        "generation": {
            "max_input_tokens": cfg.max_input_tokens,
            "max_new_tokens": cfg.max_target_tokens,
            "focus_goal": cfg.focus_goal,
        },
        "retriever": retriever_spec,
        "num_premises": k,
        "train_config": {k2: (str(v) if isinstance(v, Path) else v) for k2, v in asdict(cfg).items() if k2 != "mutants"}
        | {"mutants": [str(m) for m in cfg.mutants]},
    }
    (cfg.out / GENERATOR_META).write_text(json.dumps(meta, indent=1))
    log = read_log(cfg.out / "loss.jsonl")
    stage1.update(_loss_span(log, "stage1"))
    stage2.update(_loss_span(log, "stage2"))
    png = plot_losses(cfg.out / "loss.jsonl", cfg.out / "loss.png")
    summary = {
        "stage1": stage1,
        "stage2": stage2,
        "train_examples": len(train_ex),
        "val_examples": len(val_ex),
        "pretraining_docs": len(docs),
        "mutant_theorems": len(mutant_recs),
        "mutants_dropped_as_leaks": len(mutants.records) - len(mutant_recs),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    (cfg.out / "train_summary.json").write_text(json.dumps(summary, indent=1))
    return TrainResult(cfg.out, stage1, stage2, cfg.out / GENERATOR_META, png)


def merge_adapter(base: str, adapter: Path, out: Path) -> Path:
    """Fold the LoRA weights into the base model and save a plain HF model (+ tokenizer)."""
    from proofsmith.prover.generators.hf import load_model

    model, tok = load_model(base, str(adapter), torch.device("cpu"), torch.float32)
    merged = model.merge_and_unload()
    merged.save_pretrained(out)
    tok.save_pretrained(out)
    return Path(out)
