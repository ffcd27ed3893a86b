Require Import List.
Import ListNotations.

Theorem ex_in_app_l : forall (A : Type) (x : A) (l m : list A), In x l -> In x (l ++ m).
Proof.
Admitted.
