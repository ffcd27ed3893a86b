import pytest

from prover.generators.ensemble import EnsembleGenerator
from prover.generators.factory import make_generator
from prover.generators.knn import KNNTacticGenerator


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
    assert len(out) == 6 and "lia." in [t for t, _ in out]
    with pytest.raises(FileNotFoundError):
        make_generator(f"knn:{synthetic_dataset / 'nowhere'}")
