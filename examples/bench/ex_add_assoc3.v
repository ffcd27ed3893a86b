Require Import Arith.

Theorem ex_add_assoc3 : forall a b c d : nat, a + (b + (c + d)) = ((a + b) + c) + d.
Proof.
Admitted.
