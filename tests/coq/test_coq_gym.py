import gymnasium
from gymnasium.utils.env_checker import check_env

from proofsmith.envs.base import ProofFinished
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.gym import ProofEnv

from .conftest import stmt

THM = stmt("Theorem g1 : forall n : nat, n + 0 = n /\\ 0 + n = n.", "g1")


def test_coq_gym_rollout_rewards_and_termination():
    env = ProofEnv(lambda: CoqEnvironment(tactic_timeout=5), max_steps=10)
    obs, info = env.reset(options={"theorem": THM})
    assert obs == "⊢ forall n : nat, n + 0 = n /\\ 0 + n = n" and info["state_id"] is not None
    obs, r, term, trunc, info = env.step("intros n.")
    assert (r, term, trunc) == (0.0, False, False) and "n : nat" in obs
    obs2, r, term, trunc, info = env.step("apply nope.")
    assert obs2 == obs and info["error"] and not term  # failed tactic: same state, error in info
    obs, r, term, trunc, info = env.step("Qed.")
    assert info["error"].startswith("refused") and not term
    obs, r, term, trunc, info = env.step("split; lia.")
    assert (r, term) == (1.0, True) and isinstance(info["result"], ProofFinished)
    assert info["proof"] == ["intros n.", "split; lia."]
    env.close()


def test_coq_gym_truncates_at_step_budget():
    env = ProofEnv(lambda: CoqEnvironment(), theorem=THM, max_steps=2)
    env.reset()
    assert env.step("idtac.")[3] is False
    _, _, term, trunc, _ = env.step("idtac.")
    assert trunc and not term
    env.close()


def test_coq_gym_passes_gymnasium_env_checker():
    env = ProofEnv(lambda: CoqEnvironment(tactic_timeout=2), theorem=THM, max_steps=5)
    check_env(env, skip_render_check=True)
    assert isinstance(env.observation_space, gymnasium.spaces.Text)
    env.close()
