"""IAlertsRepository on MongoDB (pymongo): the production store of the design."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pymongo
from pymongo import MongoClient, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from alerts_processor.adapters.codec import flat_fields, make_record
from alerts_processor.adapters.mongo_query import QUERY_INDEXES, pairs, query_filter, unpairs
from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import AlertRecord, InboxEntry, ProcessedAlert, StoreUnavailable, ts
from alerts_processor.query import AlertQuery, Notification, Page, Stats, page_of

Doc = dict[str, Any]

# Fields that may change with each delivery; everything else is fixed by the episode's first delivery.
_REFRESHED = (
    "annotations",
    "receiver",
    "group_key",
    "deployment",
    "workload_kind",
    "workload_name",
    "validation_status",
    "validation_reason",
)


class MongoAlertsRepository(IAlertsRepository):
    """Atomic single-document updates; the unique `_id` settles races between workers and replicas."""

    def __init__(self, client: MongoClient[Doc], database: str) -> None:
        self._client = client
        db = client[database]
        self._alerts: Collection[Doc] = db["alerts"]
        self._deliveries: Collection[Doc] = db["deliveries"]
        self._inbox: Collection[Doc] = db["inbox"]
        self._dead: Collection[Doc] = db["dead_letters"]
        self._indexes_ready = False
        self._lock = threading.Lock()

    def _ready(self) -> None:
        if self._indexes_ready:
            return
        with self._lock:
            if not self._indexes_ready:
                self._alerts.create_index([("starts_at", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)])
                self._alerts.create_index("fingerprint")
                for fields in QUERY_INDEXES:
                    keys = [(f, pymongo.ASCENDING) for f in fields[:-1]]
                    self._alerts.create_index([*keys, (fields[-1], pymongo.DESCENDING), ("_id", pymongo.DESCENDING)])
                self._alerts.create_index([("labels.name", pymongo.ASCENDING), ("labels.value", pymongo.ASCENDING)])
                self._deliveries.create_index([("alert_id", pymongo.ASCENDING), ("received_at", pymongo.ASCENDING)])
                self._inbox.create_index([("state", pymongo.ASCENDING), ("leased_until", pymongo.ASCENDING)])
                self._indexes_ready = True

    def _run(self, action: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            self._ready()
            return fn(*args, **kwargs)
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            raise StoreUnavailable(f"mongodb {action}: {exc}") from exc

    def save(self, processed: ProcessedAlert) -> bool:
        row = flat_fields(processed)
        alert_id = row.pop("id")
        try:
            self._run(
                "save",
                self._deliveries.insert_one,
                {
                    "_id": processed.delivery.delivery_id,
                    "alert_id": alert_id,
                    "status": row["status"],
                    "received_at": row["last_received_at"],
                },
            )
        except DuplicateKeyError:
            return False
        row["annotations"] = pairs(processed.alert.annotations)
        fixed = {k: v for k, v in row.items() if k not in _REFRESHED}
        update: Doc = {
            "$set": {k: row[k] for k in _REFRESHED},
            "$inc": {"notifications": 1},
            "$min": {"first_received_at": fixed.pop("first_received_at")},
            "$max": {"last_received_at": fixed.pop("last_received_at")},
        }
        if processed.enrichment is not None:
            update["$set"]["enrichment"] = processed.enrichment
        fixed["labels"] = pairs(processed.alert.labels)
        status, ends_at = fixed.pop("status"), fixed.pop("ends_at")
        if status == "resolved":
            update["$set"].update(status="resolved", ends_at=ends_at)
            self._upsert(alert_id, update, fixed)
        else:
            # Never reopen a resolved episode: the first delivery sets `firing`, later ones leave it.
            self._upsert(alert_id, update, {**fixed, "status": status, "ends_at": ends_at})
        return True

    def _upsert(self, alert_id: str, update: Doc, on_insert: Doc) -> None:
        update = {**update, "$setOnInsert": on_insert}
        for attempt in range(2):
            try:
                self._run("save", self._alerts.update_one, {"_id": alert_id}, update, upsert=True)
                return
            except DuplicateKeyError:
                if attempt:  # two concurrent upserts of a new _id: the loser retries as an update
                    raise StoreUnavailable("mongodb save: repeated duplicate key") from None

    def prune(self, before: datetime, limit: int) -> int:
        cutoff = ts(before)
        cursor = self._alerts.find({"last_received_at": {"$lt": cutoff}}, {"_id": 1}).sort("last_received_at", 1)
        ids = [d["_id"] for d in self._run("prune", list, cursor.limit(limit))]
        self._run("prune", self._deliveries.delete_many, {"alert_id": {"$in": ids}})
        self._run("prune", self._alerts.delete_many, {"_id": {"$in": ids}})
        self._run("prune", self._dead.delete_many, {"received_at": {"$lt": cutoff}})
        self._run("prune", self._inbox.delete_many, {"state": "dead", "received_at": {"$lt": cutoff}})
        return len(ids)

    def get(self, alert_id: str) -> AlertRecord | None:
        doc = self._run("get", self._alerts.find_one, {"_id": str(alert_id)})
        return _record(doc) if doc else None

    def query(self, query: AlertQuery) -> Page:
        order = -1 if query.descending else 1
        cursor = (
            self._alerts.find(query_filter(query)).sort([(query.sort, order), ("_id", order)]).limit(query.limit + 1)
        )
        return page_of([_record(d) for d in self._run("query", list, cursor)], query)

    def history(self, alert_id: str) -> Sequence[Notification]:
        cursor = self._deliveries.find({"alert_id": str(alert_id)}).sort([("received_at", 1), ("_id", 1)])
        docs = self._run("history", list, cursor)
        return [Notification(datetime.fromisoformat(d["received_at"]), d["status"]) for d in docs]

    def stats(self, since: datetime | None, until: datetime | None, top: int) -> Stats:
        match = query_filter(AlertQuery(since=since, until=until), with_cursor=False)

        def grouped(key: Any, extra: Doc | None = None) -> list[tuple[Any, int]]:
            stages: list[Doc] = [{"$match": {**match, **(extra or {})}}, {"$group": {"_id": key, "n": {"$sum": 1}}}]
            return [(d["_id"], int(d["n"])) for d in self._run("stats", list, self._alerts.aggregate(stages))]

        workloads = grouped(
            {"ns": "$namespace", "kind": "$workload_kind", "name": "$workload_name"}, {"workload_kind": {"$ne": None}}
        )
        names = sorted(grouped("$alertname"), key=lambda kn: (-kn[1], kn[0]))[:top]
        return Stats(
            total=sum(n for _, n in grouped(None)),
            by_severity=dict(grouped("$severity")),
            by_status=dict(grouped("$status")),
            by_namespace={k or "": n for k, n in grouped("$namespace")},
            by_workload={f"{k.get('ns') or ''}/{k['kind']}/{k['name']}": n for k, n in workloads},
            top_alertnames=names,
        )

    def add_inbox(self, entry_id: str, body: bytes, received_at: datetime, leased_until: datetime) -> None:
        self._run(
            "inbox",
            self._inbox.insert_one,
            {
                "_id": entry_id,
                "body": body,
                "received_at": ts(received_at),
                "leased_until": ts(leased_until),
                "attempts": 1,
                "state": "pending",
            },
        )

    def renew_inbox(self, entry_ids: Sequence[str], leased_until: datetime) -> None:
        self._run(
            "inbox",
            self._inbox.update_many,
            {"_id": {"$in": list(entry_ids)}, "state": "pending"},
            {"$set": {"leased_until": ts(leased_until)}},
        )

    def finish_inbox(self, entry_id: str) -> None:
        self._run("inbox", self._inbox.delete_one, {"_id": entry_id})

    def bury_inbox(self, entry_id: str, reason: str) -> None:
        self._run("inbox", self._inbox.update_one, {"_id": entry_id}, {"$set": {"state": "dead", "reason": reason}})

    def claim_inbox(self, now: datetime, leased_until: datetime, limit: int) -> Sequence[InboxEntry]:
        claimed: list[InboxEntry] = []
        for _ in range(limit):
            doc = self._run(
                "inbox",
                self._inbox.find_one_and_update,
                {"state": "pending", "leased_until": {"$lt": ts(now)}},
                {"$set": {"leased_until": ts(leased_until)}, "$inc": {"attempts": 1}},
                sort=[("received_at", 1)],
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                break
            claimed.append(
                InboxEntry(doc["_id"], bytes(doc["body"]), datetime.fromisoformat(doc["received_at"]), doc["attempts"])
            )
        return claimed

    def dead_letter(self, delivery_id: str, raw: str, reason: str, received_at: datetime) -> None:
        self._run(
            "dead_letter",
            self._dead.update_one,
            {"_id": delivery_id},
            {"$setOnInsert": {"raw": raw, "reason": reason, "received_at": ts(received_at)}},
            upsert=True,
        )

    def pending_inbox(self) -> int:
        return int(self._run("inbox", self._inbox.count_documents, {"state": "pending"}))

    def ping(self) -> None:
        self._run("ping", self._client.admin.command, "ping")

    def close(self) -> None:
        self._client.close()


def _record(doc: Doc) -> AlertRecord:
    row = {**doc, "id": doc["_id"]}
    return make_record(row, unpairs(doc["labels"]), unpairs(doc["annotations"]), doc.get("enrichment"))


def connect(url: str, default_database: str, timeout: float = 5.0) -> MongoAlertsRepository:
    """A repository for a mongodb:// URL; the database is the URL's path, else `default_database`."""
    millis = int(timeout * 1000)
    client: MongoClient[Doc] = MongoClient(
        url, serverSelectionTimeoutMS=millis, connectTimeoutMS=millis, w="majority", tz_aware=True
    )
    database = client.get_default_database(default_database).name
    return MongoAlertsRepository(client, database)
