"""Settings: every knob comes from the environment (`JOBS_*`), as PRODUCT.md fixes.

One class for all services, so a variable means the same thing everywhere.
"""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBS_", extra="ignore")

    amqp_url: str = "amqp://guest:guest@localhost:5672/"
    store_url: str = "sqlite:///var/jobs.db"
    """`sqlite:///relative/path`, `sqlite:////absolute/path`, or a `mongodb://` URL."""
    jwt_secret: SecretStr | None = None
    """HS256 secret for user tokens; the gateway refuses to start without it."""
    http_port: int = 8000
    http_host: str = "127.0.0.1"
    blob_dir: Path = Path("var/blobs")
    """Uploads in embedded mode (a `sqlite:///` store); with MongoDB they go to GridFS."""
    upload_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    """`JOBS_UPLOAD_MAX_BYTES`: the largest document `POST /documents` accepts (100 MiB)."""
    blob_retention_days: float = Field(default=30, ge=0)
    """`JOBS_BLOB_RETENTION_DAYS`: uploads older than this are deleted (0: kept forever)."""
    allow_private_networks: bool = False
    public_url: str = ""
    """Where users reach the gateway (for links printed by the CLI); defaults to the port."""
    log_level: str = "INFO"
