Require Import List.
Import ListNotations.

Theorem ex_app_assoc : forall (A : Type) (l1 l2 l3 : list A), (l1 ++ l2) ++ l3 = l1 ++ l2 ++ l3.
Proof.
Admitted.
