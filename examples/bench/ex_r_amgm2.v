Require Import Reals.
Open Scope R_scope.

Theorem ex_r_amgm2 : forall a b : R, 2 * a * b <= a * a + b * b.
Proof.
Admitted.
