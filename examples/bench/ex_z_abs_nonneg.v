Require Import ZArith.
Open Scope Z_scope.

Theorem ex_z_abs_nonneg : forall x : Z, 0 <= Z.abs x.
Proof.
Admitted.
