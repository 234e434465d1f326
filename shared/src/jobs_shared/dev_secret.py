"""The development JWT secret: one file that the dev-token CLI and the local stack runner share.

In production `JOBS_JWT_SECRET` is set and this file is never read. On a developer's
machine it is not, so the first tool that needs a secret creates one and every later
tool reads the same one: tokens minted by `jobs-dev-token` then verify against the
gateway that `jobs-stack` starts.
"""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

DEV_SECRET_FILE = "dev-jwt-secret"


def load_or_create_dev_secret(var_dir: Path = Path("var")) -> str:
    """The secret in `var_dir/dev-jwt-secret`; created (random, owner-only 0600) if missing.

    A new secret is written to a private temporary file first and then hard-linked into
    place, which fails if the file exists: two tools starting at once agree on one
    secret, and neither can read a half-written file.
    """
    path = var_dir / DEV_SECRET_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=var_dir, prefix=f".{DEV_SECRET_FILE}.")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(32))
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()
