Require Import Arith.

Theorem ex_pow_two : forall n : nat, n ^ 2 = n * n.
Proof.
Admitted.
