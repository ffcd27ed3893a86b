from proofsmith.prover.generators.prompt import augment_state, byte_length, normalize_tactic
from proofsmith.training.tokenizer import train_bpe_tokenizer


def test_generator_prompt_premise_order_and_byte_budget():
    state = "n : nat\n⊢ n + 0 = n"
    prem = ["P1 best", "P2 second", "P3 third"]
    full = augment_state(state, prem, None)
    assert full == "P3 third\n\nP2 second\n\nP1 best\n\n" + state  # best premise next to the state
    budget = byte_length(state) + byte_length("P1 best\n\n") + 3
    assert augment_state(state, prem, budget) == "P1 best\n\n" + state


def test_generator_prompt_respects_token_budget(tmp_path):
    premises = [f"Lemma lemma_{i} : forall n m : nat, n + {i} * m = m * {i} + n." for i in range(40)]
    state = "n, m : nat\nH : n <= m\n⊢ n + 0 <= m * 1"
    tok = train_bpe_tokenizer(premises + [state] * 5, 300, tmp_path / "tok")

    def n_tokens(s: str) -> int:
        return len(tok(s, add_special_tokens=False)["input_ids"])

    for budget in (n_tokens(state), 40, 75, 160, 400):
        text = augment_state(state, premises, budget, n_tokens)
        assert n_tokens(text) <= max(budget, n_tokens(state))
        assert text.endswith(state)
    text = augment_state(state, premises, 400, n_tokens)
    assert text.count("Lemma") >= 3  # the budget was used, not just respected


def test_generator_normalize_tactic():
    assert normalize_tactic("  rewrite   H. ") == "rewrite H"
    assert normalize_tactic("lia") == normalize_tactic("lia.")


def test_generator_prompt_focuses_first_goal_and_counts_the_rest():
    from proofsmith.prover.generators.prompt import TACTIC_SEP, focus_first_goal, model_input

    state = "n : nat\n⊢ n + 0 = n\n\nm : nat\n⊢ m = m\n\n⊢ True"
    assert focus_first_goal(state) == "n : nat\n⊢ n + 0 = n\n\n(+2 more goals)"
    assert focus_first_goal("n : nat\n⊢ n = n\n") == "n : nat\n⊢ n = n"
    causal = model_input(state, ["Lemma P : True."], 200, byte_length, seq2seq=False)
    assert causal.endswith("(+2 more goals)" + TACTIC_SEP) and causal.startswith("Lemma P : True.")
    assert "m = m" not in causal
    whole = model_input(state, [], 200, byte_length, seq2seq=True, focus=False)
    assert whole == state


def test_training_and_generation_build_the_same_prompt(tmp_path):
    """One prompt builder: the text a model is trained on is the text it is asked with."""
    from proofsmith.prover.generators.hf import HFGenerationConfig, HFTacticGenerator
    from proofsmith.training.data import Encoder, TacticExample

    state = "a, b : nat\nH : a = b\n⊢ b = a\n\n⊢ 0 = 0"
    prem = ("Lemma eq_sym : forall x y, x = y -> y = x.", "Lemma refl : 0 = 0.")
    tok = train_bpe_tokenizer([state, *prem] * 4, 300, tmp_path / "tok")

    class _Cfg:  # only what HFTacticGenerator reads from a model
        is_encoder_decoder = False

    class _Model:
        config = _Cfg()

    gen = HFTacticGenerator(_Model(), tok, HFGenerationConfig(max_input_tokens=64))
    enc = Encoder(tok, False, 64, 16, p_drop=0.0)
    assert enc.prompt(TacticExample(state, "symmetry.", prem), train=True) == gen.prompt(state, prem)


def test_lm_blocks_of_no_documents_is_no_blocks(tmp_path):
    """An empty val split (expert iteration's harvest has none) gives no eval rows, not one empty
    block that the model cannot run on."""
    from proofsmith.training.data import Encoder

    tok = train_bpe_tokenizer(["intros; lia.", "⊢ 0 = 0"] * 4, 300, tmp_path / "tok")
    enc = Encoder(tok, False, 64, 16, p_drop=0.0)
    assert enc.lm_blocks([], 64) == []
    blocks = enc.lm_blocks(["intros; lia."], 64)
    assert len(blocks) == 1 and blocks[0]["input_ids"] and blocks[0]["input_ids"] == blocks[0]["labels"]
