"""A throw-away RabbitMQ virtual host per test session, so tests never touch real queues."""

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

BROKER = "amqp://guest:guest@127.0.0.1:5672"


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def temporary_vhost(prefix: str = "jobs-test") -> Iterator[str]:
    """Create a vhost, yield its AMQP URL, delete it (and every queue in it) afterwards."""
    if shutil.which("rabbitmqctl") is None:
        raise RuntimeError(
            "rabbitmqctl is needed to create a test vhost (apt-get install rabbitmq-server)"
        )
    vhost = f"{prefix}-{uuid.uuid4().hex[:12]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"{BROKER}/{quote(vhost, safe='')}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)
