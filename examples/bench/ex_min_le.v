Require Import Arith.

Theorem ex_min_le : forall a b : nat, Nat.min a b <= a.
Proof.
Admitted.
