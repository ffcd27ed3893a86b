Theorem ex_and_assoc : forall P Q R : Prop, (P /\ Q) /\ R -> P /\ (Q /\ R).
Proof.
Admitted.
