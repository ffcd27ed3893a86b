Theorem ex_or_comm : forall P Q : Prop, P \/ Q -> Q \/ P.
Proof.
Admitted.
