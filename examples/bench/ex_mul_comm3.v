Require Import Arith.

Theorem ex_mul_comm3 : forall a b c : nat, a * b * c = c * b * a.
Proof.
Admitted.
