"""`jobs-dev-token`: mint a user token for local development and print a login link.

Signed with `JOBS_JWT_SECRET` when set, else with the development secret in
`var/dev-jwt-secret` (created on first use), which `jobs-stack` hands the gateway too,
so the token works against a locally started stack without any setup.
"""

import argparse
from datetime import timedelta

from gateway.auth import ADMIN_ROLE, mint_token
from jobs_shared.dev_secret import load_or_create_dev_secret
from jobs_shared.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="jobs-dev-token", description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="demo")
    parser.add_argument("--email", default="dev@example.com")
    parser.add_argument(
        "--roles", default="", help=f"comma-separated, e.g. {ADMIN_ROLE} (default: none)"
    )
    parser.add_argument("--days", type=float, default=7, help="validity (default: 7)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--link-only", action="store_true", help="print the login link only")
    output.add_argument("--token-only", action="store_true", help="print the token only")
    args = parser.parse_args(argv)
    if args.days <= 0:
        parser.error("--days must be positive")
    settings = Settings()
    secret = (
        settings.jwt_secret.get_secret_value()
        if settings.jwt_secret is not None
        else load_or_create_dev_secret()
    )
    token = mint_token(
        secret,
        sub=args.email,
        tenant=args.tenant,
        email=args.email,
        roles=[role.strip() for role in args.roles.split(",") if role.strip()],
        ttl=timedelta(days=args.days),
    )
    base = settings.public_url.rstrip("/") or f"http://127.0.0.1:{settings.http_port}"
    if not args.link_only:
        print(token)
    if not args.token_only:
        print(f"{base}/login?token={token}")


if __name__ == "__main__":
    main()
