Require Import Bool.

Theorem ex_orb_true_l : forall b : bool, true || b = true.
Proof.
Admitted.
