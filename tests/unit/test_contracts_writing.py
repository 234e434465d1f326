"""JSON a worker writes around parts already written: it reads back as the object meant."""

import orjson

from jobs_shared.contracts.writing import object_with_array


def test_an_object_with_an_array_of_written_elements_reads_back_whole() -> None:
    written = object_with_array({"job_id": "j-1", "chunk": 3}, "items", [b'{"a":1}', b"[2]"])

    assert orjson.loads(written) == {"job_id": "j-1", "chunk": 3, "items": [{"a": 1}, [2]]}


def test_no_other_fields_and_no_elements_still_make_an_object() -> None:
    assert orjson.loads(object_with_array({}, "items", [])) == {"items": []}
