Require Import Arith.

Theorem ex_lt_succ : forall n : nat, n < S (S n).
Proof.
Admitted.
