"""The password hasher: Argon2id with the parameters OWASP's Password Storage Cheat Sheet gives as its first
minimum configuration (19 MiB of memory, 2 iterations, 1 lane).

Django's own Argon2 defaults (100 MiB, 2 iterations, 8 lanes) cost about 0.5 s of CPU per log-in on this
project's 2-core machines, and 100 MiB per concurrent log-in: at a deadline's 20 log-ins at once that is
2 GB and 10 s of CPU, which the log-in step of bench/bench_flow.py showed as most of its time. These
parameters cost about 0.055 s. A stored hash made with other parameters still verifies, and Django re-hashes
it with these at the next successful log-in (`must_update`).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """`argon2$argon2id$…` as Django's hasher writes it (same algorithm name, so stored hashes stay valid)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
