Require Import Arith.

Theorem ex_sub_diag : forall n : nat, n - n = 0.
Proof.
Admitted.
