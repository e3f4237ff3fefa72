"""The project's DynamoDB emulator: moto's server, with every request applied
one at a time; optionally behind a "front" that adds what DynamoDB does
under load and moto does not.

moto changes its in-memory tables without any locking: a TransactWriteItems
that takes its rollback snapshot while a concurrent request changes the same
table fails ("dictionary changed size during iteration", HTTP 500). Real
DynamoDB applies each request atomically, so the faithful emulation is to
serialise requests: clients still interleave request by request, which is
exactly the concurrency the project's conditions and transactions guard
against. Only the handling of one request at a time is exclusive.

Transactions roll back per item. moto 5.2.5's TransactWriteItems
deep-copies every table a transaction names before applying anything, and
puts the copies back when it cancels: each transaction costs O(table size)
(on a table of 20 000 items, 840 ms each on a 2-core machine). With
requests serialised, only the items the transaction names can change, so at
start-up (with or without the front) moto's DynamoDBBackend.
transact_write_items is wrapped: while it runs, moto's "copy" of a table is
a snapshot of those items alone (a deep copy of each, or "absent"; the
table's stream records are truncated back too), and when moto rolls back,
the live table is put back with exactly those items restored: the old item
put back, an item the transaction created deleted. Everything else is
moto's own code, unchanged: its validation (more than 100 items, two
operations on one item, an item with two operations, ...), its exceptions,
and its cancellation reasons in their order. The tests in
scripts/lib/test_dynamodb_emulator.py compare both methods on the same
transactions and print their times: 200 transactions on 20 000 items took
168 s with moto's method, 0.36 s with this one (1.8 ms each).

Served by waitress, not moto's own werkzeug server: werkzeug closes every
connection after one response ("Connection: close"), so each DynamoDB
request opened a new TCP connection and left one in TIME_WAIT. waitress
keeps HTTP/1.1 connections alive, as DynamoDB does. (./scripts/bench.sh:
a 1000-recipient push took 876 ms with it, 944 ms without; the occasional
warm-latency outliers of up to about 1 s stayed: they are not this.)

Usage: python dynamodb_emulator.py HOST PORT [--front] [FRONT OPTIONS]

Without --front (and without any DYNAMODB_FRONT* variable) the emulator is
exactly the plain one above: same answers, same access log.

The front (opt-in)
------------------
WSGI middleware in this process around the serialised moto app. Serialised,
moto answers every request as if it were alone, so tests cannot see what
DynamoDB does to concurrent or hot traffic. The front adds, each off until
configured:

  latency        every DynamoDB request sleeps latency_ms (transactions:
                 transaction_latency_ms when set) before it is applied,
                 outside the serialising lock, so requests overlap in time.
  conflicts      a TransactWriteItems holds its items (table + key
                 attributes, ConditionCheck items included) from its arrival
                 until moto has applied it. DynamoDB's documented conflicts
                 ("Transaction conflict handling"), decided on arrival:
                 - a TransactWriteItems with an item held by another
                   in-flight TransactWriteItems is cancelled: HTTP 400
                   TransactionCanceledException, reason TransactionConflict
                   for each held item and None for the others;
                 - a PutItem, UpdateItem or DeleteItem (conditional or not)
                   on a held item: HTTP 400 TransactionConflictException;
                 - a TransactGetItems with an item held by an in-flight
                   TransactWriteItems, PutItem, UpdateItem, DeleteItem or
                   BatchWriteItem: TransactionCanceledException as above.
                 A rejected request holds nothing and is not applied.
                 BatchWriteItem entries are never rejected for a conflict
                 (DynamoDB documents no such rule).
  throttling     per item (table + key): more than write_rate writes (or
                 read_rate reads: GetItem, BatchGetItem, TransactGetItems
                 items) admitted within the last second are refused. Single
                 items: HTTP 400 ThrottlingException (throttle_error can
                 make it ProvisionedThroughputExceededException) with
                 throttlingReasons Table{Write,Read}KeyRangeThroughput-
                 Exceeded; a transaction: TransactionCanceledException with
                 ThrottlingError for the hot items; a BatchWriteItem /
                 BatchGetItem: the hot entries come back in UnprocessedItems
                 / UnprocessedKeys, and only when every entry is hot is the
                 whole request refused (as DynamoDB does). Refused requests
                 do not count towards the rate. Query and Scan are not
                 item requests and are never throttled.
  lost responses a request in lose_ops (default: the writes) that moto
                 answered 2xx is applied, then its answer is lost: every
                 lose_every-th such request of the table and/or with
                 probability lose_probability (random.Random seeded with
                 "SEED:TABLE", so a table's sequence does not depend on the
                 other tables' traffic), at most lose_limit times (unset:
                 no limit). lose_mode "close" (default): the connection is
                 closed without a byte of response (waitress's
                 ClientDisconnected), which is what a response lost in the
                 network looks like to the client: an I/O error, retried
                 by the AWS SDK as transient. lose_mode "500": HTTP 500
                 InternalServerError, which DynamoDB documents as "the
                 request may or may not have succeeded"; the SDK retries
                 it too (transient status). Either way the write has
                 committed and the SDK sends it again.
  idempotency    TransactWriteItems' ClientRequestToken (the AWS SDKs fill
                 one in for every call; retries of a call reuse it): a
                 successful transaction's token is remembered with the hash
                 of its request body (canonical JSON) and its response for
                 idempotency_window_s (600) after it completed. A repeat
                 with the same body answers the remembered response without
                 applying anything; a different body: HTTP 400
                 IdempotentParameterMismatchException. A repeat while the
                 first is still in flight: HTTP 400
                 TransactionInProgressException. A token whose transaction
                 failed is not remembered (nothing was applied). moto 5.2.5
                 ignores ClientRequestToken entirely.

Settings (all off by default). Each has a command-line flag and an
environment variable; any of them (not --seed alone), or --front /
DYNAMODB_FRONT=1, turns the front on. They are the default for every
table; the control endpoint overrides them per table at run time.
  --latency-ms N                 DYNAMODB_FRONT_LATENCY_MS
  --transaction-latency-ms N     DYNAMODB_FRONT_TRANSACTION_LATENCY_MS
  --conflicts                    DYNAMODB_FRONT_CONFLICTS=1
  --write-rate W                 DYNAMODB_FRONT_WRITE_RATE   (per item, /s)
  --read-rate R                  DYNAMODB_FRONT_READ_RATE    (per item, /s)
  --throttle-error NAME          DYNAMODB_FRONT_THROTTLE_ERROR
  --lose-every N                 DYNAMODB_FRONT_LOSE_EVERY
  --lose-probability P           DYNAMODB_FRONT_LOSE_PROBABILITY
  --lose-limit N                 DYNAMODB_FRONT_LOSE_LIMIT
  --lose-mode close|500          DYNAMODB_FRONT_LOSE_MODE
  --lose-ops OP,OP               DYNAMODB_FRONT_LOSE_OPS
  --idempotency                  DYNAMODB_FRONT_IDEMPOTENCY=1
  --idempotency-window-s S       DYNAMODB_FRONT_IDEMPOTENCY_WINDOW_S
  --seed S                       DYNAMODB_FRONT_SEED (default 0)

Control endpoint (front mode only; never delayed, never counted):
  GET  /_front/config            {"default": {...}, "tables": {T: {...}}}
  POST /_front/config            JSON {"table": T, <setting>: value, ...}:
                                 T's settings = its current ones (else the
                                 default) updated with these; without
                                 "table", the default for all tables is
                                 updated. Answers {"table", "settings"}.
  POST /_front/reset             JSON {"table": T}: T's settings, counters,
                                 rate windows, loss sequence and remembered
                                 tokens are dropped; {} resets everything to
                                 the command line's settings.
  GET  /_front/stats[?table=T][&top=N]
                                 T's counters (without table: all tables'):
                                 {"requests": {op: n}, "applied": {op: n},
                                  "conflicts", "throttles",
                                  "unprocessed_entries", "lost_responses",
                                  "idempotent_replays",
                                  "idempotent_mismatches",
                                  "transactions_in_progress",
                                  "hot_items": {"top": N, "items": n,
                                                "by_writes": [...],
                                                "by_reads": [...]}}
                                 "applied" counts the requests moto answered
                                 2xx (a lost or replayed answer included /
                                 excluded respectively). "hot_items": see
                                 "Item trace" below; N defaults to 10.
  A bad body or setting answers 400 {"error": ...}.

Item trace: the front counts, per item (table + key attributes), the
writes and reads it admitted (not refused for a conflict or throttling;
moto may still refuse one, a failed condition say, which DynamoDB charges
all the same): a write is a PutItem, UpdateItem or DeleteItem, each
TransactWriteItems item (ConditionCheck items included) and each
BatchWriteItem entry; a read is a GetItem, each BatchGetItem key and each
TransactGetItems item. Query and Scan are not item requests and are not
counted; an idempotent replay is not admitted. /_front/stats lists the top N
items by writes and by reads, those with none left out, each as {"table",
"key": {attribute: value as a string}, "writes", "transactional_writes"
(of them, TransactWriteItems items: DynamoDB charges those twice),
"reads"}; "items" is how many items were counted. It is a dict of three
counters per item the front has seen since its reset (a table's reset
drops that table's).

Access log: the plain emulator's line for each request moto answers; a
request the front answers itself (conflict, throttling, replay, mismatch,
in progress, a lost answer as HTTP 500) gets the same line ending in
" front:<counter>"; a connection closed on purpose adds a line
"front: response lost (connection closed) after <target> was applied".
An idempotent replay never reaches moto and is never lost.

A request's table is the first table it names (TableName, the first
RequestItems table, the first transaction item's table); its latency,
losses, idempotency and counters are that table's. Conflicts and throttling
are decided per item with the item's own table's settings. A table's key
attributes are taken from the CreateTable requests the front sees (else
from moto's backend).
"""

import argparse
import collections
import copy
import hashlib
import heapq
import io
import json
import os
import random
import secrets
import signal
import string
import sys
import threading
import time
import zlib

import waitress
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)


def main() -> None:
    args = parse_args(sys.argv[1:])
    host, port = args.host, args.port
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    install_item_rollback()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        status = []

        def recording(s, headers, exc_info=None):
            status.append(s.split(" ", 1)[0])
            return start_response(s, headers, exc_info)

        with lock:
            # Materialise the body inside the lock: the response is built
            # from backend state that the next request may change.
            body = list(app(environ, recording))
        # One access line per request, werkzeug's shape: the benchmarks
        # count the emulator's requests from them (scripts/bench-lambda.sh).
        line = '{} - - "{} {} {}" {} -\n'.format(
            environ.get("REMOTE_ADDR", "-"),
            environ.get("REQUEST_METHOD", "-"),
            environ.get("PATH_INFO", "-"),
            environ.get("SERVER_PROTOCOL", "-"),
            status[0] if status else "-",
        )
        sys.stderr.write(line)
        sys.stderr.flush()
        return body

    served = serialised
    front = front_settings(args)
    if front is not None:
        served = Front(serialised, lock, front, args.seed)
        sys.stderr.write(
            "front: on, default settings {}\n".format(json.dumps(front, sort_keys=True))
        )
        sys.stderr.flush()

    # DynamoDB's requests carry no header with an underscore, so moto's
    # werkzeug request handler (which keeps S3's) is not needed here.
    waitress.serve(
        served,
        host=host,
        port=port,
        threads=16,
        connection_limit=1000,
        channel_timeout=120,
        ident="offpush-dynamodb-emulator",
        _quiet=True,
    )


# ---- TransactWriteItems: rollback per item ------------------------------------------


class ItemSnapshot:
    """What moto's TransactWriteItems takes for a deep copy of a table: a
    deep copy of only the items the transaction names (or "absent"), put
    back by restore()."""

    def __init__(self, table, transact_items):
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.table = table
        self.name = table.name
        self.saved = []  # (hash value, range value or None, item copy or None, bucket existed)
        self.stream_len = len(table.stream_shard.items) if table.stream_shard is not None else None
        seen = set()
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                if op.get("TableName") != self.name:
                    continue
                attrs = op.get("Item") if op_type == "Put" else op.get("Key")
                h = DynamoType(attrs[hash_attr])
                r = DynamoType(attrs[range_attr]) if range_attr is not None else None
            except Exception:  # noqa: BLE001 - moto refuses such an item and writes nothing for it
                continue
            if (h, r) in seen:
                continue
            seen.add((h, r))
            if range_attr is None:
                bucket, old = None, table.items.get(h)
            else:
                bucket = table.items.get(h)  # .get: the defaultdict must not grow here
                old = bucket.get(r) if bucket is not None else None
            self.saved.append((h, r, copy.deepcopy(old) if old is not None else None, bucket is not None))

    def restore(self):
        items = self.table.items
        for h, r, old, had_bucket in self.saved:
            if self.table.range_key_attr is None:
                if old is None:
                    items.pop(h, None)
                else:
                    items[h] = old
            elif old is None:
                bucket = items.get(h)
                if bucket is not None:
                    bucket.pop(r, None)
                    if not bucket and not had_bucket:
                        del items[h]
            else:
                items[h][r] = old
        if self.stream_len is not None:
            del self.table.stream_shard.items[self.stream_len :]


class _SnapshotCopy:
    """Stands for the copy module inside moto's DynamoDB models while one
    TransactWriteItems runs: a deep copy of a Table is an ItemSnapshot;
    anything else is copied as usual."""

    def __init__(self, transact_items):
        from moto.dynamodb.models.table import Table

        self._table_type = Table
        self._items = transact_items
        self.snapshots = {}  # id(table) -> its snapshot

    def deepcopy(self, x, memo=None):
        if isinstance(x, self._table_type):
            # moto copies a table once per item naming it, all before the
            # first write: one snapshot serves them all.
            snap = self.snapshots.get(id(x))
            if snap is None:
                snap = self.snapshots[id(x)] = ItemSnapshot(x, self._items)
            return snap
        return copy.deepcopy(x, memo)

    def __getattr__(self, name):
        return getattr(copy, name)


def install_item_rollback():
    """moto's DynamoDBBackend.transact_write_items, run unchanged but with
    its rollback copies limited to the transaction's items (see the module
    docstring). Requests are serialised, so nothing else reads the backend
    while a transaction's snapshot stands in for its table."""
    from moto.dynamodb import models

    moto_method = models.DynamoDBBackend.transact_write_items
    if getattr(moto_method, "moto_transact_write_items", None) is not None:
        return

    def transact_write_items(self, transact_items):
        shim = _SnapshotCopy(transact_items)
        models.copy = shim
        try:
            return moto_method(self, transact_items)
        except BaseException:
            # moto rolled back by assigning its "copies" to self.tables:
            # put the live table back with its items as they were.
            for snap in shim.snapshots.values():
                if self.tables.get(snap.name) is snap:
                    self.tables[snap.name] = snap.table
                    snap.restore()
            raise
        finally:
            models.copy = copy

    transact_write_items.moto_transact_write_items = moto_method
    models.DynamoDBBackend.transact_write_items = transact_write_items


# ---- settings -------------------------------------------------------------------

WRITE_OPS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
SINGLE_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
THROTTLE_ERRORS = ("ThrottlingException", "ProvisionedThroughputExceededException")

DEFAULTS = {
    "latency_ms": 0,
    "transaction_latency_ms": None,
    "conflicts": False,
    "write_rate": 0,
    "read_rate": 0,
    "throttle_error": "ThrottlingException",
    "lose_every": 0,
    "lose_probability": 0.0,
    "lose_limit": None,
    "lose_mode": "close",
    "lose_ops": list(WRITE_OPS),
    "idempotency": False,
    "idempotency_window_s": 600.0,
}


def _nonneg_int(v):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError("a non-negative integer")
    return v


def _opt_int(v):
    return None if v is None else _nonneg_int(v)


def _nonneg_num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise ValueError("a non-negative number")
    return float(v)


def _probability(v):
    v = _nonneg_num(v)
    if v > 1:
        raise ValueError("a probability (0 to 1)")
    return v


def _bool(v):
    if not isinstance(v, bool):
        raise ValueError("true or false")
    return v


def _one_of(*choices):
    def check(v):
        if v not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return v

    return check


def _ops(v):
    if not isinstance(v, list) or not all(isinstance(o, str) for o in v):
        raise ValueError("a list of operation names")
    return list(v)


CHECKS = {
    "latency_ms": _nonneg_int,
    "transaction_latency_ms": _opt_int,
    "conflicts": _bool,
    "write_rate": _nonneg_int,
    "read_rate": _nonneg_int,
    "throttle_error": _one_of(*THROTTLE_ERRORS),
    "lose_every": _nonneg_int,
    "lose_probability": _probability,
    "lose_limit": _opt_int,
    "lose_mode": _one_of("close", "500"),
    "lose_ops": _ops,
    "idempotency": _bool,
    "idempotency_window_s": _nonneg_num,
}


def merged(base: dict, update: dict) -> dict:
    """base updated with update's settings, each checked (ValueError)."""
    out = dict(base)
    for k, v in update.items():
        if k not in CHECKS:
            raise ValueError("unknown setting {!r} (known: {})".format(k, ", ".join(CHECKS)))
        try:
            out[k] = CHECKS[k](v)
        except ValueError as e:
            raise ValueError("{}: expected {}, got {!r}".format(k, e, v)) from None
    return out


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(description="moto's DynamoDB, serialised; optionally with the front")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--front", action="store_true", default=env("DYNAMODB_FRONT", "") not in ("", "0"))
    p.add_argument("--seed", default=env("DYNAMODB_FRONT_SEED", "0"))
    flag = lambda name: "--" + name.replace("_", "-")  # noqa: E731
    var = lambda name: env("DYNAMODB_FRONT_" + name.upper())  # noqa: E731
    for name in ("conflicts", "idempotency"):
        v = var(name)
        p.add_argument(flag(name), dest=name, action="store_true", default=None if v in (None, "", "0") else True)
    for name, ty in (
        ("latency_ms", int),
        ("transaction_latency_ms", int),
        ("write_rate", int),
        ("read_rate", int),
        ("throttle_error", str),
        ("lose_every", int),
        ("lose_probability", float),
        ("lose_limit", int),
        ("lose_mode", str),
        ("idempotency_window_s", float),
    ):
        v = var(name)
        p.add_argument(flag(name), dest=name, type=ty, default=None if v in (None, "") else ty(v))
    v = var("lose_ops")
    p.add_argument(
        "--lose-ops",
        dest="lose_ops",
        type=lambda s: [o for o in s.split(",") if o],
        default=None if v in (None, "") else [o for o in v.split(",") if o],
    )
    return p.parse_args(argv)


def front_settings(args):
    """The front's default settings, or None when the front is off."""
    given = {k: getattr(args, k) for k in CHECKS if getattr(args, k) is not None}
    if not args.front and not given:
        return None
    try:
        return merged(DEFAULTS, given)
    except ValueError as e:
        sys.exit("dynamodb_emulator: {}".format(e))


# ---- DynamoDB's answers ------------------------------------------------------------

PREFIX = "com.amazonaws.dynamodb.v20120810#"
CONFLICT_MESSAGE = "Transaction is ongoing for the item"
THROTTLE_MESSAGE = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is "
    "automatically scaling your table or index so please try again shortly. If "
    "exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html."
)
ACCOUNT = "123456789012"  # moto's default account
REASON_PHRASES = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}


def request_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(52))


def cancelled(reasons):
    """TransactionCanceledException: reasons is one (code, message) per
    transaction item, code None for the items that were not the cause."""
    codes = [c or "None" for c, _ in reasons]
    return {
        "__type": PREFIX + "TransactionCanceledException",
        "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]".format(
            ", ".join(codes)
        ),
        "CancellationReasons": [{"Code": c, "Message": m} if c else {"Code": "None"} for c, m in reasons],
    }


def throttled(error, kind, table, region):
    reasons = [
        {
            "reason": "Table{}KeyRangeThroughputExceeded".format("Write" if kind == "w" else "Read"),
            "resource": "arn:aws:dynamodb:{}:{}:table/{}".format(region, ACCOUNT, table),
        }
    ]
    # The SDK reads "throttlingReasons" on ThrottlingException and
    # "ThrottlingReasons" on ProvisionedThroughputExceededException.
    field = "throttlingReasons" if error == "ThrottlingException" else "ThrottlingReasons"
    return {"__type": PREFIX + error, "message": THROTTLE_MESSAGE, field: reasons}


def error(name, message, field="message"):
    return {"__type": PREFIX + name, field: message}


# ---- the front ----------------------------------------------------------------------


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class Request:
    """What the front needs to know of one DynamoDB request."""

    def __init__(self, op, body, front):
        self.op = op
        self.body = body
        self.tables = []
        # (table, canonical key, kind "w"/"r", index) per item, in order.
        self.items = []
        self.token = None
        self.digest = None
        get = body.get
        self.count = len(get("TransactItems") or []) if op.startswith("Transact") else 0
        if op in SINGLE_WRITES or op == "GetItem":
            t = get("TableName")
            self._table(t)
            key = get("Item") if op == "PutItem" else get("Key")
            self._item(front, t, key, "r" if op == "GetItem" else "w", 0, whole=op == "PutItem")
        elif op == "TransactWriteItems":
            self.token = get("ClientRequestToken")
            for i, entry in enumerate(get("TransactItems") or []):
                kind, inner = next(iter(entry.items())) if entry else (None, {})
                t = inner.get("TableName")
                self._table(t)
                whole = kind == "Put"
                self._item(front, t, inner.get("Item") if whole else inner.get("Key"), "w", i, whole)
        elif op == "TransactGetItems":
            for i, entry in enumerate(get("TransactItems") or []):
                inner = entry.get("Get") or {}
                t = inner.get("TableName")
                self._table(t)
                self._item(front, t, inner.get("Key"), "r", i)
        elif op == "BatchWriteItem":
            for t, entries in (get("RequestItems") or {}).items():
                self._table(t)
                for i, entry in enumerate(entries):
                    if "PutRequest" in entry:
                        self._item(front, t, entry["PutRequest"].get("Item"), "w", i, whole=True)
                    else:
                        self._item(front, t, (entry.get("DeleteRequest") or {}).get("Key"), "w", i)
        elif op == "BatchGetItem":
            for t, ka in (get("RequestItems") or {}).items():
                self._table(t)
                for i, key in enumerate(ka.get("Keys") or []):
                    self._item(front, t, key, "r", i)
        else:
            self._table(get("TableName"))
        self.table = self.tables[0] if self.tables else ""

    def _table(self, t):
        if isinstance(t, str) and t not in self.tables:
            self.tables.append(t)

    def _item(self, front, table, attrs, kind, index, whole=False):
        if not isinstance(table, str) or not isinstance(attrs, dict):
            return
        if whole:
            names = front.key_names(table)
            if names is None:
                return
            attrs = {n: attrs[n] for n in names if n in attrs}
        self.items.append((table, canonical(attrs), kind, index))


class Front:
    """The WSGI front: see the module's docstring."""

    def __init__(self, app, moto_lock, defaults, seed):
        self.app = app
        self.moto_lock = moto_lock
        self.initial = dict(defaults)
        self.seed = str(seed)
        self.state = threading.Lock()
        self._clear()
        self.schemas = {}

    def _clear(self):
        self.default = dict(self.initial)
        self.tables = {}
        self.stats = {}
        self.windows = {}  # (table, key, kind) -> deque of admission times
        self.held_txn = collections.Counter()  # (table, key) held by transactions
        self.held_write = collections.Counter()  # (table, key) held by other writes
        self.tokens = {}  # token -> record
        self.tokens_in_flight = set()
        self.losses = {}  # table -> {"seen", "lost", "rng"}
        self.trace = {}  # (table, key) -> [writes, transactional writes, reads]

    # -- settings, schemas, counters (callers hold self.state) --------------------

    def settings(self, table):
        return self.tables.get(table, self.default)

    def key_names(self, table):
        names = self.schemas.get(table)
        if names is None:
            names = self._moto_key_names(table)
            if names is not None:
                self.schemas[table] = names
        return names

    def _moto_key_names(self, table):
        try:
            from moto.dynamodb.models import dynamodb_backends

            with self.moto_lock:
                for regions in list(dynamodb_backends.values()):
                    for backend in list(regions.values()):
                        t = backend.tables.get(table)
                        if t is not None:
                            return [n for n in (t.hash_key_attr, t.range_key_attr) if n]
        except Exception:  # noqa: BLE001 - a lookup aid only
            pass
        return None

    def _stats(self, table):
        s = self.stats.get(table)
        if s is None:
            s = self.stats[table] = zero_stats()
        return s

    def _count(self, table, name, n=1, op=None):
        s = self._stats(table)
        if op is None:
            s[name] += n
        else:
            s[name][op] += n

    def _rate_ok(self, now, table, key, kind):
        s = self.settings(table)
        rate = s["write_rate"] if kind == "w" else s["read_rate"]
        if not rate:
            return True
        w = self.windows.get((table, key, kind))
        if w is None:
            return True
        while w and now - w[0] >= 1.0:
            w.popleft()
        return len(w) < rate

    def _admit(self, now, table, key, kind):
        s = self.settings(table)
        if s["write_rate"] if kind == "w" else s["read_rate"]:
            if len(self.windows) >= 10000:
                self.sweep()
            self.windows.setdefault((table, key, kind), collections.deque()).append(now)

    def _trace(self, table, key, kind, op):
        c = self.trace.get((table, key))
        if c is None:
            c = self.trace[(table, key)] = [0, 0, 0]
        if kind == "w":
            c[0] += 1
            if op == "TransactWriteItems":
                c[1] += 1
        else:
            c[2] += 1

    def hot_items(self, table, top):
        """The top items by writes and by reads (of table, else all)."""
        rows = [(k, c) for k, c in self.trace.items() if table is None or k[0] == table]

        def listed(i):
            best = heapq.nlargest(top, (r for r in rows if r[1][i]), key=lambda r: (r[1][i], r[0]))
            return [
                {
                    "table": t,
                    "key": key_strings(key),
                    "writes": c[0],
                    "transactional_writes": c[1],
                    "reads": c[2],
                }
                for (t, key), c in best
            ]

        return {"top": top, "items": len(rows), "by_writes": listed(0), "by_reads": listed(2)}

    def sweep(self):
        """Drops expired tokens and idle rate windows."""
        now = time.monotonic()
        for k in [k for k, rec in self.tokens.items() if rec["expires"] <= now]:
            del self.tokens[k]
        for k in [k for k, w in self.windows.items() if not w or now - w[-1] >= 1.0]:
            del self.windows[k]

    # -- WSGI ---------------------------------------------------------------------

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_front/"):
            return self.control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if environ.get("REQUEST_METHOD") != "POST" or not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        op = target.split(".", 1)[-1]
        raw = read_body(environ)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return self.app(environ, start_response)
        return self.dynamodb(environ, start_response, op, body)

    def dynamodb(self, environ, start_response, op, body):
        region = request_region(environ)
        now = time.monotonic()
        reject = None  # (status, payload, event)
        held = []  # (counter, key) to release
        token = None
        unprocessed = {}  # table -> [entry index] for batches
        with self.state:
            try:
                req = Request(op, body, self)
            except (AttributeError, TypeError, KeyError, StopIteration):
                req = None  # malformed: moto's validation answers it
        if req is None:
            return self.app(environ, start_response)
        with self.state:
            table = req.table
            ps = self.settings(table)
            self._count(table, "requests", op=op)

            # ClientRequestToken (TransactWriteItems).
            if op == "TransactWriteItems" and ps["idempotency"] and isinstance(req.token, str):
                token = req.token
                digest = hashlib.sha256(canonical(body).encode()).hexdigest()
                rec = self.tokens.get(token)
                if rec is not None and rec["expires"] <= now:
                    del self.tokens[token]
                    rec = None
                if rec is not None and rec["digest"] == digest:
                    reject = ("replay", rec, "idempotent_replays")
                elif rec is not None:
                    reject = (
                        400,
                        error(
                            "IdempotentParameterMismatchException",
                            "ClientRequestToken {} was used by another request within the last {} s".format(
                                token, int(ps["idempotency_window_s"])
                            ),
                            field="Message",
                        ),
                        "idempotent_mismatches",
                    )
                elif token in self.tokens_in_flight:
                    reject = (
                        400,
                        error(
                            "TransactionInProgressException",
                            "The transaction with the given request token is already in progress.",
                            field="Message",
                        ),
                        "transactions_in_progress",
                    )
                else:
                    req.digest = digest

            # Conflicts and throttling, decided on arrival.
            if reject is None and req.items:
                reject, unprocessed = self._decide(now, req, region)
            if reject is None:
                for t, key, kind, i in req.items:
                    if i in unprocessed.get(t, ()):
                        continue
                    self._admit(now, t, key, kind)
                    self._trace(t, key, kind, op)
                    if kind == "w" and self.settings(t)["conflicts"]:
                        c = self.held_txn if op == "TransactWriteItems" else self.held_write
                        c[(t, key)] += 1
                        held.append((c, (t, key)))
                if token is not None:
                    self.tokens_in_flight.add(token)
            if reject is not None:
                for event in reject[2].split("+"):
                    self._count(table, event)
            # Latency: the whole of it before the request is applied.
            delay = ps["latency_ms"]
            if op.startswith("Transact") and ps["transaction_latency_ms"] is not None:
                delay = ps["transaction_latency_ms"]

        if delay:
            time.sleep(delay / 1000.0)

        if reject is not None:
            status, payload, event = reject
            if status == "replay":
                return self.answer(environ, start_response, 200, payload["body"], event, payload["type"])
            return self.answer(environ, start_response, status, payload, event)

        # Batches: the throttled entries are taken out and answered unprocessed.
        if unprocessed:
            environ, left = without_entries(environ, op, body, unprocessed)
        captured = {}

        def capture(s, headers, exc_info=None):
            captured["status"], captured["headers"] = s, list(headers)
            return lambda data: None

        try:
            out = b"".join(self.app(environ, capture))
        finally:
            with self.state:
                for c, key in held:
                    c[key] -= 1
                    if c[key] <= 0:
                        del c[key]
                if token is not None:
                    self.tokens_in_flight.discard(token)
        status = int(captured["status"].split(" ", 1)[0])
        headers = captured["headers"]
        ok = 200 <= status < 300
        if ok and unprocessed:
            out, headers = with_unprocessed(op, body, unprocessed, out, headers)
        with self.state:
            if ok:
                self._count(table, "applied", op=op)
                self.schema_seen(op, body)
                if token is not None:
                    ctype = dict((k.lower(), v) for k, v in headers).get("content-type", "application/x-amz-json-1.0")
                    if len(self.tokens) >= 10000:
                        self.sweep()
                    self.tokens[token] = {
                        "digest": req.digest,
                        "body": out,
                        "type": ctype,
                        "table": table,
                        "expires": time.monotonic() + ps["idempotency_window_s"],
                    }
            if unprocessed:
                self._count(table, "unprocessed_entries", sum(len(v) for v in unprocessed.values()))
            lose = ok and self._lose(table, op, ps)
        if lose:
            return self.lost(environ, start_response, ps["lose_mode"])
        start_response(captured["status"], headers)
        return [out]

    def _decide(self, now, req, region):
        """(reject, unprocessed) for the items of req (self.state held)."""
        op = req.op
        reasons = [(None, None)] * req.count if op.startswith("Transact") else None
        conflict = hot = None
        unprocessed = {}
        entries = collections.Counter()
        for t, key, kind, i in req.items:
            s = self.settings(t)
            entries[t] += 1
            if s["conflicts"] and op != "BatchWriteItem" and op != "BatchGetItem":
                holders = [self.held_txn]
                if op == "TransactGetItems":
                    holders.append(self.held_write)
                if kind == "w" or op == "TransactGetItems":
                    if any(h.get((t, key)) for h in holders):
                        conflict = conflict or (t, key)
                        if reasons is not None:
                            reasons[i] = ("TransactionConflict", CONFLICT_MESSAGE)
                        continue
            if not self._rate_ok(now, t, key, kind):
                hot = hot or (t, kind, s["throttle_error"])
                if reasons is not None:
                    reasons[i] = ("ThrottlingError", THROTTLE_MESSAGE)
                elif op.startswith("Batch"):
                    unprocessed.setdefault(t, set()).add(i)
        if reasons is not None and (conflict or hot):
            event = "conflicts+throttles" if conflict and hot else "conflicts" if conflict else "throttles"
            return (400, cancelled(reasons), event), {}
        if conflict:
            return (400, error("TransactionConflictException", CONFLICT_MESSAGE), "conflicts"), {}
        if hot and op.startswith("Batch"):
            if all(len(unprocessed.get(t, ())) == n for t, n in entries.items()):
                return (400, throttled(hot[2], hot[1], hot[0], region), "throttles"), {}
            return None, unprocessed
        if hot:
            return (400, throttled(hot[2], hot[1], hot[0], region), "throttles"), {}
        return None, {}

    def _lose(self, table, op, ps):
        if op not in ps["lose_ops"] or not (ps["lose_every"] or ps["lose_probability"]):
            return False
        st = self.losses.get(table)
        if st is None:
            st = self.losses[table] = {
                "seen": 0,
                "lost": 0,
                "rng": random.Random("{}:{}".format(self.seed, table)),
            }
        if ps["lose_limit"] is not None and st["lost"] >= ps["lose_limit"]:
            return False
        st["seen"] += 1
        draw = st["rng"].random()
        lose = bool(ps["lose_every"] and st["seen"] % ps["lose_every"] == 0)
        lose = lose or (ps["lose_probability"] > 0 and draw < ps["lose_probability"])
        if lose:
            st["lost"] += 1
            self._count(table, "lost_responses")
        return lose

    def schema_seen(self, op, body):
        if op == "CreateTable":
            ks = body.get("KeySchema") or []
            order = {"HASH": 0, "RANGE": 1}
            ks = sorted(ks, key=lambda k: order.get(k.get("KeyType"), 2))
            self.schemas[body.get("TableName")] = [k.get("AttributeName") for k in ks]
        elif op == "DeleteTable":
            self.schemas.pop(body.get("TableName"), None)

    # -- answers ------------------------------------------------------------------

    def answer(self, environ, start_response, status, payload, event, ctype="application/x-amz-json-1.0"):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = [
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", request_id()),
            ("x-amz-crc32", str(zlib.crc32(body))),
        ]
        if isinstance(payload, dict) and "__type" in payload:
            headers.append(("x-amzn-ErrorType", payload["__type"].split("#", 1)[-1]))
        start_response("{} {}".format(status, REASON_PHRASES.get(status, "")), headers)
        access_line(environ, status, event)
        return [body]

    def lost(self, environ, start_response, mode):
        sys.stderr.write("front: response lost ({}) after {} was applied\n".format(
            "connection closed" if mode == "close" else "HTTP 500", environ.get("HTTP_X_AMZ_TARGET", "-")))
        sys.stderr.flush()
        if mode == "500":
            return self.answer(
                environ,
                start_response,
                500,
                error("InternalServerError", "Internal server error"),
                "lost_responses",
            )
        # Nothing written yet: waitress closes the connection without a
        # byte of response (channel.service handles ClientDisconnected so).
        from waitress.channel import ClientDisconnected

        raise ClientDisconnected("front: response lost")

    # -- control --------------------------------------------------------------------

    def control(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        query = dict(
            p.split("=", 1) if "=" in p else (p, "") for p in environ.get("QUERY_STRING", "").split("&") if p
        )
        try:
            raw = read_body(environ) if method == "POST" else b""
            data = json.loads(raw or b"{}")
            if not isinstance(data, dict):
                raise ValueError("a JSON object is expected")
            table = data.pop("table", None)
            if table is not None and not isinstance(table, str):
                raise ValueError("table: a string is expected")
            with self.state:
                if path == "/_front/config" and method == "GET":
                    out = {"default": self.default, "tables": self.tables}
                elif path == "/_front/config" and method == "POST":
                    if table is None:
                        self.default = merged(self.default, data)
                        out = {"table": None, "settings": self.default}
                    else:
                        self.tables[table] = merged(self.settings(table), data)
                        out = {"table": table, "settings": self.tables[table]}
                elif path == "/_front/reset" and method == "POST":
                    if data:
                        raise ValueError("reset takes only a table")
                    self.reset(table)
                    out = {"reset": table if table is not None else "all"}
                elif path == "/_front/stats" and method == "GET":
                    top = query.get("top", "10")
                    if not top.isdigit():
                        raise ValueError("top: expected a non-negative integer, got {!r}".format(top))
                    out = self.stats_of(query.get("table"), int(top))
                else:
                    return plain(start_response, 404, {"error": "no such control endpoint: {} {}".format(method, path)})
            return plain(start_response, 200, out)
        except ValueError as e:
            return plain(start_response, 400, {"error": str(e)})

    def reset(self, table):
        if table is None:
            self._clear()
            return
        self.tables.pop(table, None)
        self.stats.pop(table, None)
        self.losses.pop(table, None)
        for k in [k for k in self.windows if k[0] == table]:
            del self.windows[k]
        for k in [k for k, rec in self.tokens.items() if rec["table"] == table]:
            del self.tokens[k]
        for k in [k for k in self.trace if k[0] == table]:
            del self.trace[k]

    def stats_of(self, table, top=10):
        if table is not None:
            names = [table] if table in self.stats else []
        else:
            names = list(self.stats)
        total = zero_stats()
        for n in names:
            for k, v in self.stats[n].items():
                if isinstance(v, collections.Counter):
                    total[k].update(v)
                else:
                    total[k] += v
        total["table"] = table
        total["hot_items"] = self.hot_items(table, top)
        return total


# ---- helpers ------------------------------------------------------------------------


def zero_stats():
    return {
        "requests": collections.Counter(),
        "applied": collections.Counter(),
        "conflicts": 0,
        "throttles": 0,
        "unprocessed_entries": 0,
        "lost_responses": 0,
        "idempotent_replays": 0,
        "idempotent_mismatches": 0,
        "transactions_in_progress": 0,
    }


def key_strings(key):
    """A canonical key ('{"pk":{"S":"x"}}') as {attribute: "x"}."""
    out = {}
    for name, typed in json.loads(key).items():
        value = next(iter(typed.values())) if isinstance(typed, dict) and typed else typed
        out[name] = value if isinstance(value, str) else json.dumps(value)
    return out


def read_body(environ) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        n = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        n = -1
    return stream.read(n) if n >= 0 else stream.read()


def request_region(environ) -> str:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    i = auth.find("Credential=")
    if i >= 0:
        parts = auth[i + len("Credential=") :].split(",", 1)[0].split("/")
        if len(parts) >= 3 and parts[2]:
            return parts[2]
    return "us-east-1"


def access_line(environ, status, event):
    sys.stderr.write(
        '{} - - "{} {} {}" {} - front:{}\n'.format(
            environ.get("REMOTE_ADDR", "-"),
            environ.get("REQUEST_METHOD", "-"),
            environ.get("PATH_INFO", "-"),
            environ.get("SERVER_PROTOCOL", "-"),
            status,
            event,
        )
    )
    sys.stderr.flush()


def plain(start_response, status, payload):
    body = (json.dumps(payload, sort_keys=True) + "\n").encode()
    start_response(
        "{} {}".format(status, REASON_PHRASES.get(status, "Not Found")),
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def without_entries(environ, op, body, unprocessed):
    """environ for the batch without its unprocessed entries."""
    items = {}
    for t, entries in body["RequestItems"].items():
        skip = unprocessed.get(t, ())
        if op == "BatchWriteItem":
            left = [e for i, e in enumerate(entries) if i not in skip]
            if left:
                items[t] = left
        else:
            keys = [k for i, k in enumerate(entries.get("Keys") or []) if i not in skip]
            if keys:
                items[t] = dict(entries, Keys=keys)
    raw = json.dumps(dict(body, RequestItems=items)).encode()
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(raw)
    environ["CONTENT_LENGTH"] = str(len(raw))
    return environ, items


def with_unprocessed(op, body, unprocessed, out, headers):
    """moto's batch answer with the unprocessed entries added."""
    answer = json.loads(out)
    if op == "BatchWriteItem":
        field = answer.setdefault("UnprocessedItems", {})
        for t, idx in unprocessed.items():
            entries = body["RequestItems"][t]
            field.setdefault(t, []).extend(entries[i] for i in sorted(idx))
    else:
        field = answer.setdefault("UnprocessedKeys", {})
        for t, idx in unprocessed.items():
            ka = body["RequestItems"][t]
            keys = [ka["Keys"][i] for i in sorted(idx)]
            prev = field.get(t)
            field[t] = dict(ka, Keys=(prev["Keys"] if prev else []) + keys)
    out = json.dumps(answer).encode()
    fixed = []
    for k, v in headers:
        if k.lower() == "content-length":
            v = str(len(out))
        elif k.lower() == "x-amz-crc32":
            v = str(zlib.crc32(out))
        fixed.append((k, v))
    return out, fixed


if __name__ == "__main__":
    main()
