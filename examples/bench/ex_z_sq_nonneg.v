Require Import ZArith.
Open Scope Z_scope.

Theorem ex_z_sq_nonneg : forall x y : Z, 0 <= x * x + y * y.
Proof.
Admitted.
