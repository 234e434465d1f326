"""The gateway's commands: `jobs-dev-token` mints tokens the gateway accepts, and
`jobs-gateway` refuses to start without a JWT secret."""

import stat
from pathlib import Path

import jwt
import pytest

from gateway.__main__ import main as gateway_main
from gateway.auth import decode_token
from gateway.dev_token import main as dev_token_main
from jobs_shared.dev_secret import load_or_create_dev_secret
from tests.support.gateway import SECRET


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("JOBS_JWT_SECRET", "JOBS_PUBLIC_URL", "JOBS_HTTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _minted(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    dev_token_main(list(args))
    token, link = capsys.readouterr().out.splitlines()
    return token, link


def test_without_a_secret_the_dev_token_uses_a_private_dev_secret_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token, link = _minted(capsys, "--tenant", "t1", "--email", "a@t1.test", "--roles", "jobs:admin")

    secret_file = workdir / "var" / "dev-jwt-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    principal = decode_token(token, secret_file.read_text())
    assert (principal.tenant, principal.email, principal.is_admin) == ("t1", "a@t1.test", True)
    assert link == f"http://127.0.0.1:8000/login?token={token}"


def test_the_dev_secret_is_made_once_and_then_reused(workdir: Path) -> None:
    first = load_or_create_dev_secret(workdir / "var")
    assert load_or_create_dev_secret(workdir / "var") == first
    assert len(first) >= 32
    assert [p.name for p in (workdir / "var").iterdir()] == ["dev-jwt-secret"]


def test_the_dev_token_signs_with_jobs_jwt_secret_when_set(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBS_JWT_SECRET", SECRET)
    monkeypatch.setenv("JOBS_HTTP_PORT", "9100")
    token, link = _minted(capsys, "--days", "1")

    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert (claims["tenant"], claims["email"], claims["roles"]) == ("demo", "dev@example.com", [])
    assert claims["exp"] - claims["iat"] == 86_400
    assert link.startswith("http://127.0.0.1:9100/login?token=")
    assert not (workdir / "var").exists()


def test_link_only_prints_just_the_login_link(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev_token_main(["--link-only"])
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("http://127.0.0.1:8000/login?token=")


def test_token_only_prints_just_a_token_the_gateway_accepts(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dev_token_main(["--token-only", "--tenant", "t2"])
    (line,) = capsys.readouterr().out.splitlines()
    principal = decode_token(line, load_or_create_dev_secret(workdir / "var"))
    assert principal.tenant == "t2"


def test_the_gateway_refuses_to_start_without_a_jwt_secret(workdir: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gateway_main()
    assert "JOBS_JWT_SECRET is not set" in str(exit_info.value.code)
