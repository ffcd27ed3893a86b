"""A tiny contrastive run: the loss goes down and the encoder beats chance on its own training pairs."""

import json

import numpy as np
import torch

from proofsmith.retrieval.dense import DenseRetriever
from proofsmith.retrieval.encoder import Encoder
from proofsmith.retrieval.evaluate import evaluate
from proofsmith.retrieval.train import (
    NegativeSampler,
    TrainConfig,
    build_examples,
    contrastive_loss,
    save_checkpoint,
    train,
)


def test_retriever_negatives_are_accessible_and_not_positive(toy_corpus, toy_records):
    import random

    sampler = NegativeSampler(toy_corpus, random.Random(0))
    for ex in build_examples(toy_records, toy_corpus):
        neg = sampler.sample(ex, 3, 1)
        assert len(neg) == 3 and not set(neg) & ex.all_positives
        assert all(toy_corpus.is_accessible(i, ex.file_path, ex.pos) for i in neg)
        f = toy_corpus.file_of[ex.positive]
        hard = [
            i
            for i in range(*toy_corpus.ranges[f])
            if i not in ex.all_positives and toy_corpus.is_accessible(i, ex.file_path, ex.pos)
        ]
        if hard:  # one negative comes from the positive's own file whenever that file offers one
            assert toy_corpus.file_of[neg[0]] == f


def test_retriever_contrastive_loss_masks_other_positives():
    from proofsmith.retrieval.train import RetrievalExample

    q = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), dim=-1)
    c = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.01]]), dim=-1)
    batch = [
        RetrievalExample("a", "F", None, 10, frozenset({10, 12})),
        RetrievalExample("b", "F", None, 11, frozenset({11})),
    ]
    masked = contrastive_loss(q, c, [10, 11, 12], batch, 0.1)
    # premise 12 is also a positive of query 0: masked, so query 0's loss is near zero
    unmasked_batch = [RetrievalExample("a", "F", None, 10, frozenset({10})), batch[1]]
    unmasked = contrastive_loss(q, c, [10, 11, 12], unmasked_batch, 0.1)
    assert masked.item() < 0.05 < unmasked.item()


def test_retriever_tiny_training_lowers_loss_and_beats_random(tmp_path, tiny_encoder_dir, toy_corpus, toy_records):
    torch.manual_seed(0)
    enc = Encoder(tiny_encoder_dir, device="cpu")
    examples = build_examples(toy_records, toy_corpus)
    before = evaluate(DenseRetriever.build(enc, toy_corpus), toy_corpus, toy_records)
    cfg = TrainConfig(batch_size=16, lr=3e-3, epochs=60, max_steps=100, warmup_steps=10, progress=False, seed=0)
    res = train(enc, toy_corpus, examples, cfg)
    assert res.steps == 100 and len(res.losses) == 100
    assert np.mean(res.losses[-10:]) < 0.6 * np.mean(res.losses[:10])
    after = evaluate(DenseRetriever.build(enc, toy_corpus), toy_corpus, toy_records)
    # chance: a positive lands in the top 10 of the ~20 accessible premises about half the time
    accessible = np.mean(
        [len(toy_corpus.accessible_ids(r.file_path, r.start)) for r in toy_records for _ in r.traced_tactics]
    )
    assert after.r10 > min(1.0, 10 / accessible) + 0.15
    assert after.mrr > before.mrr and after.r1 > 0.3
    out = save_checkpoint(enc, tmp_path / "ckpt", cfg, res)
    assert (out / "config.json").is_file() and (out / "loss_curve.png").stat().st_size > 1000
    assert json.loads((out / "training.json").read_text())["result"]["steps"] == 100
    # the checkpoint loads back as a plain HF model with the same embeddings
    again = Encoder(out, device="cpu")
    np.testing.assert_allclose(again.embed(toy_corpus.texts[:5]), enc.embed(toy_corpus.texts[:5]), atol=1e-5)
