Require Import ZArith.
Open Scope Z_scope.

Theorem ex_z_linear : forall x : Z, 3 * x - 7 = 8 -> x = 5.
Proof.
Admitted.
