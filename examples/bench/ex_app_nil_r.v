Require Import List.
Import ListNotations.

Theorem ex_app_nil_r : forall (A : Type) (l : list A), l ++ [] = l.
Proof.
Admitted.
