"""Every default time limit, in seconds, defined once.

One name per limit across the CLI and the code:

- `theorem_timeout` (`--theorem-timeout`): wall-clock budget for proving one theorem (search, every
  tactic, the final check and the coqc re-verification all count against it);
- `tactic_timeout` (`--tactic-timeout`): one tactic call, including Coq's work after the tactic
  (the `Qed` check of a finished proof);
- `verify_timeout` (`--verify-timeout`): one batch re-check of a whole file (`coqc` + axiom audit);
- `sentence_timeout` (`--sentence-timeout`): one sentence replayed while tracing a library;
- `command_timeout` (`--command-timeout`): one Lean REPL command (a header's imports, a proof's check);
- `start_timeout`: loading a theorem's context (its `Require`s) or replaying a path to a state;
- `mutation_tactic_timeout`: one rewrite/apply attempt while mutating a theorem;
- `request_timeout` (`openai:...#request_timeout=S`): one HTTP request to a generator server (connect
  + answer), each retry again.

Each call honours its limit within `LIMIT_SLACK` seconds, whatever the prover does.
"""

from __future__ import annotations

THEOREM_TIMEOUT = 600.0
TACTIC_TIMEOUT = 5.0
VERIFY_TIMEOUT = 300.0
SENTENCE_TIMEOUT = 300.0
START_TIMEOUT = 180.0
MUTATION_TACTIC_TIMEOUT = 3.0
ITERATE_THEOREM_TIMEOUT = 60.0  # each expert-iteration round proves the whole pool again
COMMAND_TIMEOUT = 600.0  # importing Mathlib alone can take minutes
REQUEST_TIMEOUT = 60.0  # a busy GPU server may queue a request behind a few batches

# How far past its limit a call may return: time to interrupt or kill the prover and clean up.
LIMIT_SLACK = 2.0
