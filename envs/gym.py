"""`ProofEnv`: a gymnasium wrapper over any `Environment`.

Observation: the pretty-printed proof state (text). Action: tactic text. Reward: `finish_reward`
on a verified-by-Qed `ProofFinished`, `step_reward` otherwise. `terminated` on a finished proof,
`truncated` at the step budget. A failed tactic leaves the state unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from proofsmith.envs.base import (
    EnvCrashError,
    Environment,
    EnvTimeoutError,
    ProofFinished,
    TacticError,
    TacticState,
    TheoremRef,
)

MAX_TEXT = 1 << 16
_CHARSET = frozenset(chr(c) for c in range(0x20, 0x10000) if not 0xD800 <= c < 0xE000) | {"\n", "\t"}


class ProofEnv(gym.Env):
    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        env_factory: Callable[[], Environment],
        theorem: TheoremRef | None = None,
        max_steps: int = 50,
        finish_reward: float = 1.0,
        step_reward: float = 0.0,
        error_reward: float = 0.0,
        render_mode: str | None = None,
    ):
        self._factory = env_factory
        self._env: Environment | None = None
        self.theorem = theorem
        self.max_steps = max_steps
        self.finish_reward, self.step_reward, self.error_reward = finish_reward, step_reward, error_reward
        self.render_mode = render_mode
        self.observation_space = spaces.Text(max_length=MAX_TEXT, charset=_CHARSET)
        self.action_space = spaces.Text(max_length=MAX_TEXT, charset=_CHARSET)
        self.state: TacticState | None = None
        self.steps = 0
        self.proof: list[str] = []
        self._episode_ids: dict[int, int] = {}

    @property
    def env(self) -> Environment:
        if self._env is None:
            self._env = self._factory()
        return self._env

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and options.get("theorem") is not None:
            self.theorem = options["theorem"]
        if self.theorem is None:
            raise ValueError("ProofEnv.reset needs a theorem: ProofEnv(..., theorem=...) or options={'theorem': ...}")
        self.state = self.env.start(self.theorem)
        self.steps, self.proof = 0, []
        self._episode_ids = {self.state.id: 0}  # backend ids are global; info shows per-episode ids
        return self.state.pp, self._info(None)

    def step(self, action: str):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        self.steps += 1
        try:
            result = self.env.run_tactic(self.state, action)
        except (EnvCrashError, EnvTimeoutError) as e:  # the backend restarted itself; the state stays
            result = TacticError(f"{type(e).__name__}: {e}")
        reward, terminated, error = self.step_reward, False, None
        if isinstance(result, ProofFinished):
            reward, terminated = self.finish_reward, True
            self.proof = list(result.proof)
            obs = ""
        elif isinstance(result, TacticState):
            self.state = result
            self._episode_ids.setdefault(result.id, len(self._episode_ids))
            self.proof.append(action)
            obs = result.pp
        else:
            error = result.message if isinstance(result, TacticError) else "proof given up (admit)"
            reward = self.error_reward
            obs = self.state.pp
        truncated = not terminated and self.steps >= self.max_steps
        info = self._info(error)
        info["result"] = result
        return obs, reward, terminated, truncated, info

    def _info(self, error: str | None) -> dict[str, Any]:
        st = self.state
        return {
            "state_id": self._episode_ids.get(st.id) if st else None,
            "state": st,
            "goals": [g.pp for g in st.goals] if st else [],
            "error": error,
            "steps": self.steps,
            "proof": list(self.proof),
        }

    def render(self):
        if self.render_mode == "ansi":
            return self.state.pp if self.state else ""
        return None

    def close(self):
        if self._env is not None:
            self._env.close()
            self._env = None
