"""The generic Environment contract: start → failing step → retry → detour → backtrack to state 0 → finish → verify."""

from __future__ import annotations

from dataclasses import dataclass

from proofsmith.envs.base import Environment, ProofFinished, TacticError, TacticRefused, TacticState, TheoremRef


@dataclass
class ContractCase:
    theorem: TheoremRef
    failing_step: str  # rejected by the prover from state 0
    detour: str  # accepted from state 0, leading to a state we then abandon
    path: tuple[str, ...]  # from state 0 to ProofFinished


def check_environment_contract(env: Environment, case: ContractCase) -> ProofFinished:
    assert isinstance(env, Environment)
    s0 = env.start(case.theorem)
    assert isinstance(s0, TacticState) and s0.id == 0 and s0.pp

    err = env.run_tactic(s0, case.failing_step)
    assert isinstance(err, TacticError) and not isinstance(err, TacticRefused), err
    again = env.run_tactic(s0, case.failing_step)  # the state survives an error: retry gives the same answer
    assert isinstance(again, TacticError) and again.message == err.message

    detour = env.run_tactic(s0, case.detour)
    assert isinstance(detour, TacticState) and detour.id != s0.id, detour

    state, result = s0, None  # backtrack: continue from state 0, not from the detour
    for i, step in enumerate(case.path):
        result = env.run_tactic(state, step)
        if i < len(case.path) - 1:
            assert isinstance(result, TacticState), (step, result)
            state = result
    assert isinstance(result, ProofFinished), result
    assert tuple(result.proof) == tuple(case.path)

    verdict = env.verify(case.theorem, list(result.proof))
    assert verdict.verified, verdict.reasons
    return result
