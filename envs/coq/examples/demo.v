(* Theorems the demo proves with automation only (no learned model yet). *)
Require Import Arith Lia Reals Lra.

Theorem demo_add_comm : forall n m : nat, n + m = m + n.
Proof. Admitted.

Theorem demo_linear : forall x y : nat, x + 2 * y = 10 -> y = 3 -> x = 4.
Proof. Admitted.

Theorem demo_square_nonneg : forall x : Z, (0 <= x * x)%Z.
Proof. Admitted.

Theorem demo_real_linear : forall x : R, (3 * x + 2 = 11)%R -> x = 3%R.
Proof. Admitted.

Theorem demo_and_comm : forall P Q : Prop, P /\ Q -> Q /\ P.
Proof. Admitted.

Theorem demo_exists : exists n : nat, n * n = 49.
Proof. Admitted.

Theorem demo_lt_irrefl : forall n : nat, ~ (n < n).
Proof. Admitted.
