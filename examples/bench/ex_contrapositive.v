Theorem ex_contrapositive : forall P Q : Prop, (P -> Q) -> ~ Q -> ~ P.
Proof.
Admitted.
