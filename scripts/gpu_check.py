"""One short GPU check: train the scratch `small` generator for a few hundred steps on the device,
generate with beam search, and compare training/generation throughput with the CPU.

    python scripts/gpu_check.py --steps 300 --out $OUT/gpu_check.json      # on a GPU machine
    python scripts/gpu_check.py --device cpu --steps 5 --cpu-steps 3         # smoke run anywhere

Data: a traced dataset (`--data DIR`), else synthetic arithmetic states (no files needed).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proofsmith.prover.generators.hf import HFTacticGenerator
from proofsmith.training.data import Encoder, TacticExample, collate, read_records, tactic_examples
from proofsmith.training.lora import attach_lora
from proofsmith.training.scratch import VOCAB_SIZES, scratch_model
from proofsmith.training.tokenizer import train_bpe_tokenizer


def synthetic(n: int, seed: int = 0) -> list[TacticExample]:
    rng = random.Random(seed)
    ops = [("+ 0", "rewrite Nat.add_0_r."), ("* 1", "rewrite Nat.mul_1_r."), ("+ 0 * 1", "lia."), ("- 0", "lia.")]
    out = []
    for _ in range(n):
        v = rng.choice("nmkxyz") + rng.choice(["", "1", "'", "0"])
        op, tac = rng.choice(ops)
        out.append(TacticExample(f"{v} : nat\n⊢ {v} {op} = {v}", tac))
    return out


def train_steps(model, batches, device, steps: int) -> dict:
    model.to(device).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    tokens, losses = 0, []
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for i in range(steps + 2):
        if i == 2:  # two warm-up steps excluded from the timing
            sync()
            t0 = time.time()
            tokens = 0
        b = {k: v.to(device) for k, v in batches[i % len(batches)].items()}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model(**b).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        tokens += int(b["attention_mask"].sum())
        losses.append(float(loss))
    sync()
    dt = max(time.time() - t0, 1e-9)
    return {
        "steps": steps,
        "seconds": round(dt, 2),
        "steps_per_s": round(steps / dt, 2),
        "tokens_per_s": round(tokens / dt),
        "first_loss": round(losses[0], 3),
        "last_loss": round(losses[-1], 3),
    }


def gen_speed(model, tok, device, states: list[str], num: int) -> dict:
    g = HFTacticGenerator(model.to(device).eval(), tok)
    g.config.max_new_tokens = 24
    g.generate_batch(states[:2], [[]] * 2, num)  # warm-up
    t0 = time.time()
    out = g.generate_batch(states, [[]] * len(states), num)
    dt = time.time() - t0
    return {
        "states": len(states),
        "beams": num,
        "seconds": round(dt, 2),
        "states_per_s": round(len(states) / dt, 2),
        "sample": out[0][:3],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--config", default="small", choices=["tiny", "small", "base"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=300, help="training steps on --device")
    ap.add_argument("--cpu-steps", type=int, default=10, help="training steps for the CPU baseline (0: skip)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--beams", type=int, default=8)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    examples = tactic_examples(read_records(args.data, "random", "train")) if args.data else synthetic(2000)
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    tok = train_bpe_tokenizer(
        [e.state for e in examples] + [e.tactic for e in examples], VOCAB_SIZES[args.config], tmp / "tok"
    )
    enc = Encoder(tok, False, 192, 32)
    rows = [enc.sft(e) for e in examples]
    batches = [collate(tok.pad_token_id)(rows[i : i + args.batch_size]) for i in range(0, len(rows), args.batch_size)]
    states = [e.state for e in examples[:32]]
    report: dict = {
        "config": args.config,
        "examples": len(examples),
        "batch_size": args.batch_size,
        "device": args.device,
        "torch": torch.__version__,
    }
    if args.device.startswith("cuda"):
        report["gpu"] = torch.cuda.get_device_name(0)
    torch.manual_seed(0)
    model = attach_lora(scratch_model(args.config, "causal", tok), 16, 32)
    report["train_device"] = train_steps(model, batches, torch.device(args.device), args.steps)
    report["generate_device"] = gen_speed(model, tok, torch.device(args.device), states, args.beams)
    if args.cpu_steps and args.device != "cpu":
        torch.manual_seed(0)
        cpu_model = attach_lora(scratch_model(args.config, "causal", tok), 16, 32)
        report["train_cpu"] = train_steps(cpu_model, batches, torch.device("cpu"), args.cpu_steps)
        report["generate_cpu"] = gen_speed(cpu_model, tok, torch.device("cpu"), states[:8], args.beams)
        report["train_speedup"] = round(report["train_device"]["tokens_per_s"] / report["train_cpu"]["tokens_per_s"], 1)
        report["generate_speedup"] = round(
            report["generate_device"]["states_per_s"] / report["generate_cpu"]["states_per_s"], 1
        )
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
