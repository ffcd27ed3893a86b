Require Import Arith.

Theorem ex_double_even : forall n : nat, Nat.even (n + n) = true.
Proof.
Admitted.
