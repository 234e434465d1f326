"""An in-memory stand-in for PyMongo's async database, so the Mongo adapter runs without a server.

A thin async shim over `mongomock` (which is synchronous): it has exactly the part of
`AsyncDatabase` / `AsyncCollection` / `AsyncCursor` / `AsyncCommandCursor` that
`MongoJobStore` and `MongoCatalogStore` call, with the same call shapes as
`pymongo.asynchronous` (checked against its source): `find()` is a plain call returning
a cursor that is sorted, limited, iterated with `async for` or drained with `await
cursor.to_list()`; `find_one`, `bulk_write`, `update_many`, `count_documents`,
`create_index` and `command` are coroutines; `aggregate` is a coroutine returning a
cursor. Anything else raises AttributeError, so the adapter cannot come to rely on more
than a real server is asked for here.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Self

import mongomock
from pymongo import ReplaceOne, UpdateOne

Document = dict[str, Any]


class StandinCursor:
    """`AsyncCursor` (and `AsyncCommandCursor`, which only iterates) over a mongomock cursor."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._iterator: Iterator[Document] | None = None

    def sort(self, key_or_list: Any, direction: int | None = None) -> Self:
        self._cursor.sort(key_or_list, direction)
        return self

    def limit(self, limit: int) -> Self:
        self._cursor.limit(limit)
        return self

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Document:
        if self._iterator is None:
            self._iterator = iter(self._cursor)
        try:
            return next(self._iterator)
        except StopIteration:
            raise StopAsyncIteration from None

    async def to_list(self, length: int | None = None) -> list[Document]:
        documents = [document async for document in self]
        return documents if length is None else documents[:length]


class StandinCollection:
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def find(self, filter: Mapping[str, Any], projection: Any = None) -> StandinCursor:
        return StandinCursor(self._collection.find(filter, projection))

    async def find_one(self, filter: Mapping[str, Any]) -> Document | None:
        document: Document | None = self._collection.find_one(filter)
        return document

    async def bulk_write(
        self, requests: Sequence[ReplaceOne[Document] | UpdateOne], ordered: bool = True
    ) -> None:
        """Replays the operations one by one: mongomock's own `bulk_write` predates PyMongo 4.9.

        Reads the operation's fields the way PyMongo's bulk builder does (they have no public
        accessors); ordered or not makes no difference without concurrent writers.
        """
        for request in requests:
            if isinstance(request, ReplaceOne):
                self._collection.replace_one(
                    request._filter, request._doc, upsert=bool(request._upsert)
                )
            elif isinstance(request, UpdateOne):
                self._collection.update_one(
                    request._filter, request._doc, upsert=bool(request._upsert)
                )
            else:
                raise TypeError(f"the stand-in replays ReplaceOne and UpdateOne, got {request!r}")

    async def update_many(self, filter: Mapping[str, Any], update: Mapping[str, Any]) -> None:
        self._collection.update_many(filter, update)

    async def count_documents(self, filter: Mapping[str, Any]) -> int:
        count: int = self._collection.count_documents(filter)
        return count

    async def create_index(self, keys: Any, **kwargs: Any) -> str:
        name: str = self._collection.create_index(keys, **kwargs)
        return name

    async def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> StandinCursor:
        return StandinCursor(self._collection.aggregate(list(pipeline)))


class StandinDatabase:
    """`AsyncDatabase` over a fresh, private mongomock database."""

    def __init__(self, name: str = "jobs_standin") -> None:
        self._database: Any = mongomock.MongoClient()[name]

    def __getitem__(self, name: str) -> StandinCollection:
        return StandinCollection(self._database[name])

    async def command(self, command: str) -> Document:
        if command != "ping":
            raise NotImplementedError(f"the stand-in answers only 'ping', not {command!r}")
        return {"ok": 1.0}
