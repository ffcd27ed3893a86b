"""Fixtures for generator/training tests: a small synthetic traced dataset, one CPU thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from gen_fixtures import synthetic_corpus, synthetic_theorems

from proofsmith.dataset.loading import write_dataset


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("syn_data")
    write_dataset(out, synthetic_theorems(), synthetic_corpus(), {"backend": "coq"}, num_eval=3)
    return out


@pytest.fixture(autouse=True)
def _one_thread():
    # Oversubscribed CPUs make multi-threaded BLAS much slower than one thread.
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory, synthetic_dataset) -> Path:
    """A tiny scratch model: stage 1 + LoRA SFT on the synthetic data (shared by several tests)."""
    import torch

    from proofsmith.training.pipeline import TrainConfig, run_training

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("tiny_run")
    run_training(
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
            merge=True,
            progress=False,
            retriever="bm25",
            num_premises=2,
        )
    )
    return out
