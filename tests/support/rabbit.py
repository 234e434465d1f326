"""A throw-away RabbitMQ virtual host per test session, so tests never touch real queues."""

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote

BROKER = "amqp://guest:guest@127.0.0.1:5672"


def _rabbitmqctl(*args: str) -> str:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def _rabbitmqctl_rows(*args: str) -> list[list[str]]:
    output = _rabbitmqctl("--no-table-headers", *args)
    return [line.split("\t") for line in output.splitlines() if line.strip()]


def close_connection_consuming(amqp_url: str, queue: str) -> None:
    """Close, from the broker's side, the AMQP connection consuming `queue` (as a network
    drop or a broker restart would): the consumer's robust connection then reconnects."""
    vhost = unquote(amqp_url.rsplit("/", 1)[1])
    consumers = _rabbitmqctl_rows("list_consumers", "-p", vhost, "queue_name", "channel_pid")
    channel = next(pid for name, pid in consumers if name == queue)
    channels = _rabbitmqctl_rows("list_channels", "pid", "connection")
    connection = next(conn for pid, conn in channels if pid == channel)
    _rabbitmqctl("close_connection", connection, "test: broker connection lost")


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
