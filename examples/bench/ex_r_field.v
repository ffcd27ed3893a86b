Require Import Reals.
Open Scope R_scope.

Theorem ex_r_field : forall x : R, x <> 0 -> x * / x = 1.
Proof.
Admitted.
