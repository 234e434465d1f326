"""JSON a worker writes itself, where building the pydantic message and having it write
the whole costs more than the work the message reports (a batch of 1,000 rows).

Parts written elsewhere (a reader's batch of items, a batch's outcomes) go into the
message as they are; whoever receives it validates it with the message's model, and
tests hold what is written here equal to what pydantic writes.
"""

from collections.abc import Iterable, Mapping

import orjson
from pydantic_core import to_jsonable_python


def message_json(value: object) -> bytes:
    """`value` as JSON: by orjson (dataclasses and all), at a third of the cost of building
    the pydantic model and having it write the message; pydantic writes what orjson
    cannot (an `ItemError`, a Decimal in a result)."""
    return orjson.dumps(value, default=to_jsonable_python, option=orjson.OPT_NON_STR_KEYS)


def object_with_array(fields: Mapping[str, object], name: str, elements: Iterable[bytes]) -> bytes:
    """The JSON object of `fields` plus the field `name`: an array of `elements`, each
    already written as JSON."""
    head = message_json(fields)[:-1]  # without its closing brace
    separator = b"," if fields else b""
    return b'%b%b"%b":[%b]}' % (head, separator, name.encode(), b",".join(elements))
