Require Import Reals.
Open Scope R_scope.

Theorem ex_r_linear : forall x y : R, x + y = 10 -> x - y = 2 -> x = 6.
Proof.
Admitted.
