import pytest

from proofsmith.prover.generators.ensemble import EnsembleGenerator
from proofsmith.prover.generators.factory import make_generator
from proofsmith.prover.generators.knn import KNNTacticGenerator


def test_generator_factory_knn_specs(synthetic_dataset, tmp_path):
    g = make_generator(f"knn:{synthetic_dataset}")
    assert isinstance(g, KNNTacticGenerator)
    g.save(tmp_path / "index")
    h = make_generator(f"knn:{tmp_path / 'index'}")
    s = "r : nat\n⊢ r * 1 = r"
    assert h.generate(s, [], 3) == g.generate(s, [], 3)
    assert h.generate(s, [], 3)[0][0] == "lia."


def test_generator_factory_ensemble_with_knn(synthetic_dataset):
    g = make_generator(f"ensemble:auto+knn:{synthetic_dataset}")
    assert isinstance(g, EnsembleGenerator)
    out = g.generate("r : nat\n⊢ r * 1 = r", [], 6)
    assert len(out) == 6 and "lia" in [t.rstrip(".") for t, _ in out]
    with pytest.raises(FileNotFoundError):
        make_generator(f"knn:{synthetic_dataset / 'nowhere'}")


class _Fixed:
    """A generator that always proposes the same scored tactics, and counts its batched calls."""

    def __init__(self, cands):
        self.cands = cands
        self.batch_calls = 0

    def generate(self, state_pp, premises, num):
        return self.cands[:num]

    def generate_batch(self, states, premises, num):
        self.batch_calls += 1
        return [self.cands[:num] for _ in states]


def test_ensemble_is_a_mixture_agreement_ranks_up_and_members_batch():
    import math

    a = _Fixed([("lia.", -0.1), ("auto.", -1.0), ("ring.", -1.1)])
    b = _Fixed([("auto", -0.5), ("intros.", -0.6)])  # proposes auto too (no final period: same tactic)
    g = EnsembleGenerator([a, b])
    out = g.generate_batch(["⊢ 1 = 1", "⊢ 2 = 2", "⊢ 3 = 3"], [[], [], []], 4)
    assert a.batch_calls == b.batch_calls == 1  # one batched call per member
    tactics = [t for t, _ in out[0]]
    assert tactics[0] == "auto." and set(tactics) == {"lia.", "auto.", "ring.", "intros."}
    assert sum(math.exp(s) for _, s in out[0]) == pytest.approx(1.0)  # a distribution over the union
    assert [s for _, s in out[0]] == sorted((s for _, s in out[0]), reverse=True)
    weighted = EnsembleGenerator([a, b], weights=[10.0, 1.0]).generate("⊢ 1 = 1", [], 4)
    assert weighted[0][0] == "lia."  # a trusted member dominates
