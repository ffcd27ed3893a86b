import torch

from proofsmith.prover.generators.base import TacticGenerator
from proofsmith.prover.generators.hf import HFTacticGenerator
from proofsmith.training.scratch import scratch_model
from proofsmith.training.tokenizer import train_bpe_tokenizer

TEXTS = [f"n{i} : nat\n⊢ n{i} + {i} = {i} + n{i}\nrewrite Nat.add_comm. lia. intros. split." for i in range(50)]
PREMISES = [f"Lemma add_comm_{i} : forall a b : nat, a + b = b + a." for i in range(30)]


def _generator(tmp_path, arch: str, **cfg) -> HFTacticGenerator:
    tok = train_bpe_tokenizer(TEXTS + PREMISES, 400, tmp_path / "tok")
    torch.manual_seed(0)
    model = scratch_model("tiny", arch, tok).eval()
    g = HFTacticGenerator(model, tok)
    for k, v in cfg.items():
        setattr(g.config, k, v)
    return g


def test_hf_generator_seq2seq_distinct_sorted(tmp_path):
    g = _generator(tmp_path, "seq2seq", max_new_tokens=8)
    assert g.seq2seq and isinstance(g, TacticGenerator)
    out = g.generate_batch(["n : nat\n⊢ n + 0 = n", "⊢ True"], [PREMISES[:3], []], 6)
    for cands in out:
        assert len(cands) == 6 and len({t for t, _ in cands}) == 6
        assert [s for _, s in cands] == sorted((s for _, s in cands), reverse=True)


def test_hf_generator_prompt_respects_token_budget(tmp_path):
    for arch in ("causal", "seq2seq"):
        g = _generator(tmp_path / arch, arch, max_input_tokens=64)
        state = "n, m : nat\nH : n <= m\n⊢ n + 0 <= m * 1"
        prompt = g.prompt(state, PREMISES)
        assert g.n_tokens(prompt) <= 64
        assert "Lemma" in prompt and state in prompt
        g.config.max_input_tokens = 512
        assert g.prompt(state, PREMISES).count("Lemma") > prompt.count("Lemma")
