"""What the benchmark scripts share: Django set up on a throw-away data dir."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(data_dir: str, *, fast_hashing: bool = False) -> None:
    """Django on `data_dir` (SQLite there unless SHENBAO_DATABASE_URL says otherwise), migrated.
    `fast_hashing`: MD5 instead of Argon2, for benchmarks that create users but do not time logins."""
    os.environ["SHENBAO_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shenbao.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if fast_hashing:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    # pages render hashed static names (the production storage): servers started on this data dir need them
    call_command("collectstatic", interactive=False, verbosity=0)
