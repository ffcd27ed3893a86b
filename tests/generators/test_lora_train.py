import json

import pytest
import torch

from proofsmith.prover.generators.factory import make_generator
from proofsmith.prover.generators.hf import HFTacticGenerator, load_model
from proofsmith.training.callbacks import read_log
from proofsmith.training.pipeline import TrainConfig, run_training

STATES = ["q : nat\n⊢ q + 0 = q", "⊢ forall z : nat, z + 0 = z", "c, d : nat\nHc : c = d\n⊢ d = c"]


def test_train_tiny_loss_falls(trained_tiny):
    log = read_log(trained_tiny / "loss.jsonl")
    for stage in ("stage1", "stage2"):
        losses = [r["loss"] for r in log if r["stage"] == stage and "loss" in r]
        assert len(losses) >= 2, stage
        assert losses[-1] < losses[0] * 0.9, (stage, losses)
    assert any("eval_loss" in r for r in log if r["stage"] == "stage2")  # evaluated on val
    assert (trained_tiny / "loss.png").stat().st_size > 1000
    summary = json.loads((trained_tiny / "train_summary.json").read_text())
    assert summary["stage2"]["trainable_params"] < summary["stage2"]["total_params"]  # LoRA, not full
    assert any(p.name.startswith("checkpoint-") for p in (trained_tiny / "stage2").iterdir())


def test_hf_generator_num_distinct_sorted_tactics(trained_tiny):
    g = make_generator(f"hf:{trained_tiny}")
    assert isinstance(g, HFTacticGenerator)
    batch = g.generate_batch(STATES, [["Lemma add_0_r : forall n, n + 0 = n."], [], []], 5)
    assert len(batch) == len(STATES)
    for cands in batch:
        tactics = [t for t, _ in cands]
        scores = [s for _, s in cands]
        assert len(cands) == 5 and len(set(tactics)) == 5 and all(tactics)
        assert scores == sorted(scores, reverse=True) and all(s <= 0 for s in scores)
    assert g.generate(STATES[0], [], 3) == batch[0][:3] or len(g.generate(STATES[0], [], 3)) == 3


def test_hf_generator_sampling_returns_logprobs(trained_tiny):
    g = HFTacticGenerator.from_pretrained(str(trained_tiny), strategy="sample")
    torch.manual_seed(0)
    cands = g.generate(STATES[0], [], 4)
    assert 1 <= len(cands) <= 4
    assert all(s <= 0 for _, s in cands)
    assert [s for _, s in cands] == sorted((s for _, s in cands), reverse=True)


def test_lora_training_raises_gold_tactic_likelihood(trained_tiny):
    from gen_fixtures import synthetic_theorems

    from proofsmith.training.data import Encoder, collate, tactic_examples

    meta = json.loads((trained_tiny / "generator.json").read_text())
    base, adapter = str(trained_tiny / meta["base"]), str(trained_tiny / meta["adapter"])
    tuned, tok = load_model(base, adapter, torch.device("cpu"), torch.float32)
    plain, _ = load_model(base, None, torch.device("cpu"), torch.float32)
    enc = Encoder(tok, False, 96, 24)
    batch = collate(tok.pad_token_id)([enc.sft(e, train=False) for e in tactic_examples(synthetic_theorems())])
    with torch.no_grad():
        assert tuned(**batch).loss < 0.9 * plain(**batch).loss


def test_lora_adapter_save_load_merge_round_trip(trained_tiny, tmp_path):
    meta = json.loads((trained_tiny / "generator.json").read_text())
    base, adapter = str(trained_tiny / meta["base"]), str(trained_tiny / meta["adapter"])
    peft_model, tok = load_model(base, adapter, torch.device("cpu"), torch.float32)
    # the adapter is not a no-op: generations differ from the base model's
    ref = HFTacticGenerator(peft_model, tok).generate_batch(STATES, [[]] * 3, 4)
    base_model, tok2 = load_model(base, None, torch.device("cpu"), torch.float32)
    assert HFTacticGenerator(base_model, tok2).generate_batch(STATES, [[]] * 3, 4) != ref
    # save the loaded adapter again, reload: identical generations
    peft_model.save_pretrained(tmp_path / "again")
    reloaded, tok3 = load_model(base, str(tmp_path / "again"), torch.device("cpu"), torch.float32)
    again = HFTacticGenerator(reloaded, tok3).generate_batch(STATES, [[]] * 3, 4)
    # the merged model written by --merge: identical tactics, the same scores up to float error
    merged = HFTacticGenerator.from_pretrained(str(trained_tiny / "merged")).generate_batch(STATES, [[]] * 3, 4)
    for a, b, c in zip(ref, again, merged):
        assert [t for t, _ in a] == [t for t, _ in b] == [t for t, _ in c]
        assert [s for _, s in a] == pytest.approx([s for _, s in c], abs=1e-3)


def test_train_resumes_from_last_checkpoint(trained_tiny, synthetic_dataset, tmp_path):
    import shutil

    out = tmp_path / "resume"
    shutil.copytree(trained_tiny, out)
    shutil.rmtree(out / "stage2" / "adapter")  # as if killed after the last checkpoint
    shutil.rmtree(out / "merged")
    n_before = len(read_log(out / "loss.jsonl"))
    res = run_training(
        TrainConfig(
            data=synthetic_dataset,
            out=out,
            config="tiny",
            stage1_steps=12,
            stage2_steps=100,
            batch_size=8,
            eval_every=20,
            max_input_tokens=96,
            max_target_tokens=24,
            lr_pretrain=3e-3,
            lr_lora=1e-2,
            lora_r=16,
            lora_alpha=32,
            merge=False,
            progress=False,
            retriever="bm25",
            num_premises=2,
        )
    )
    assert res.stage1.get("resumed")  # stage 1 finished earlier: not redone
    assert res.stage2["steps"] == 100  # continued from checkpoint-100, no steps redone
    new_train_rows = [r for r in read_log(out / "loss.jsonl")[n_before:] if "loss" in r]
    assert new_train_rows == []
    assert (out / "stage2" / "adapter" / "adapter_config.json").is_file()


def test_pretraining_documents_annotate_proofs_with_goals():
    from gen_fixtures import synthetic_theorems

    from proofsmith.prover.generators.prompt import TACTIC_SEP
    from proofsmith.training.data import annotated_steps, pretraining_texts

    recs = synthetic_theorems()
    steps = annotated_steps(recs[0])
    first = recs[0].traced_tactics[0]
    assert steps[0] == f"{first.state_before}{TACTIC_SEP}{first.tactic}"
    docs = pretraining_texts(recs)
    assert sum(TACTIC_SEP in d for d in docs) == sum(len(r.traced_tactics) for r in recs)
    assert not any(TACTIC_SEP in d for d in pretraining_texts(recs, with_states=False))


def test_mutants_of_held_out_theorems_are_not_trained_on(tmp_path):
    from gen_fixtures import synthetic_theorems

    from proofsmith.training.data import load_mutants

    recs = synthetic_theorems()[:3]
    rows = []
    for r in recs:
        d = r.to_json()
        d["full_name"] = r.full_name + "_mut"
        d["mutation"] = {"original": r.full_name, "kind": "rw"}
        rows.append(d)
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "train.json").write_text(json.dumps(rows[:2]))
    (tmp_path / "random" / "test.json").write_text(json.dumps(rows[2:]))  # mutants in every split are read
    m = load_mutants(tmp_path)
    assert len(m.records) == 3 and m.original[recs[2].full_name + "_mut"] == recs[2].full_name
    kept = m.without({recs[1].full_name})
    assert [k.full_name for k in kept] == [recs[0].full_name + "_mut", recs[2].full_name + "_mut"]


def test_bench_generation_script_compares_merged_and_peft(trained_tiny, synthetic_dataset, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "bench_generation.py"
    out = tmp_path / "bench.json"
    subprocess.run(
        [
            sys.executable,
            str(script),
            "--model",
            str(trained_tiny),
            "--data",
            str(synthetic_dataset),
            "--states",
            "3",
            "--num",
            "3",
            "--threads",
            "1",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    figures = json.loads(out.read_text())
    assert figures["states"] == 3
    assert figures["merged_s_per_state"] > 0 and figures["peft_s_per_state"] > 0
    assert figures["same_tactics"] == "3/3"  # folding the adapter in does not change what is generated
