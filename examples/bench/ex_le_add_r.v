Require Import Arith.

Theorem ex_le_add_r : forall n m : nat, n <= n + m.
Proof.
Admitted.
