Require Import Bool.

Theorem ex_negb_invol : forall b : bool, negb (negb b) = b.
Proof.
Admitted.
