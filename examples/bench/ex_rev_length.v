Require Import List.
Import ListNotations.

Theorem ex_rev_length : forall (A : Type) (l : list A), length (rev l) = length l.
Proof.
Admitted.
