Require Import Arith.

Theorem ex_add_succ_r : forall n m : nat, n + S m = S (n + m).
Proof.
Admitted.
