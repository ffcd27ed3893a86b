Require Import Bool.

Theorem ex_andb_comm : forall a b : bool, a && b = b && a.
Proof.
Admitted.
