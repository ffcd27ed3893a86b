Require Import Arith.

Theorem ex_max_ge : forall a b : nat, b <= Nat.max a b.
Proof.
Admitted.
