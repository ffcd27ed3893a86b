Require Import Reals.
Open Scope R_scope.

Theorem ex_r_sq_nonneg : forall x : R, 0 <= x * x.
Proof.
Admitted.
