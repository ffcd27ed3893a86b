Require Import Arith.

Theorem ex_ex_intro : exists n : nat, 3 * n = 12.
Proof.
Admitted.
