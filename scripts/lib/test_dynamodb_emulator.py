"""Tests of dynamodb_emulator.py's TransactWriteItems rollback per item.

    .venv/bin/python -m unittest scripts/lib/test_dynamodb_emulator.py

- Against moto's own method, in-process (moto's mock_aws, boto3): the same
  transactions (cancelled by a condition, successful, two operations on one
  item, more than 100 items, an item with two operations, an unknown table,
  a failed update after earlier items applied, ALL_OLD on a failed
  condition) give the same answer (error code, message, cancellation
  reasons in order) and leave both tables exactly alike.
- Against the emulator served on a free port (with its front): a cancelled
  transaction leaves every item it names unchanged, one it would have
  created absent and one it would have deleted present; a successful one
  applies them all.
- A figure, never an assertion: the time of TXN_BENCH_COUNT (default 200)
  transactions on a table of 20 000 items with moto's method (it deep-copies
  the table for each) and with the emulator's. moto's takes about 0.5 s per
  transaction on a 2-core machine, so that half alone runs for a couple of
  minutes; TXN_BENCH_COUNT=20 shortens it.
"""

import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb import models

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dynamodb_emulator  # noqa: E402

dynamodb_emulator.install_item_rollback()
OURS = models.DynamoDBBackend.transact_write_items
MOTOS = OURS.moto_transact_write_items
EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dynamodb_emulator.py")
REGION = "us-east-1"


def s(v):
    return {"S": v}


def n(v):
    return {"N": str(v)}


def kv(pk, sk):
    return {"pk": s(pk), "sk": s(sk)}


def create_tables(c):
    c.create_table(
        TableName="kv",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    c.create_table(
        TableName="h",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def seed(c):
    for pk, sk, extra in [
        ("A", "1", {"count": n(5), "name": s("a")}),
        ("B", "1", {"count": n(1), "tags": {"SS": ["x", "y"]}}),
        ("D", "1", {"flag": {"BOOL": True}}),
        ("E", "1", {"nested": {"M": {"l": {"L": [n(1), s("two")]}}}}),
    ]:
        c.put_item(TableName="kv", Item=dict(kv(pk, sk), **extra))
    c.put_item(TableName="h", Item={"id": s("X"), "v": n(1)})
    c.put_item(TableName="h", Item={"id": s("Z"), "v": n(9)})


def update(table, key, expr, values=None, names=None, cond=None):
    op = {"TableName": table, "Key": key, "UpdateExpression": expr}
    if values:
        op["ExpressionAttributeValues"] = values
    if names:
        op["ExpressionAttributeNames"] = names
    if cond:
        op["ConditionExpression"] = cond
    return {"Update": op}


def put(table, item, cond=None):
    op = {"TableName": table, "Item": item}
    if cond:
        op["ConditionExpression"] = cond
    return {"Put": op}


def delete(table, key, cond=None):
    op = {"TableName": table, "Key": key}
    if cond:
        op["ConditionExpression"] = cond
    return {"Delete": op}


def check(table, key, cond, all_old=False):
    op = {"TableName": table, "Key": key, "ConditionExpression": cond}
    if all_old:
        op["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"ConditionCheck": op}


ADD_ONE = (":one", n(1))

# name -> transact items. Each runs on freshly seeded tables.
CASES = {
    "cancelled_by_a_condition": [
        update("kv", kv("A", "1"), "ADD #c :one", {":one": n(1)}, {"#c": "count"}),
        check("kv", kv("D", "1"), "attribute_not_exists(pk)"),
        put("kv", dict(kv("C", "1"), v=n(3))),
        delete("kv", kv("B", "1")),
        update("h", {"id": s("X")}, "SET v = :v", {":v": n(2)}),
        put("h", {"id": s("Y"), "v": n(7)}),
        delete("h", {"id": s("Z")}),
    ],
    "successful": [
        update("kv", kv("A", "1"), "ADD #c :one", {":one": n(1)}, {"#c": "count"}),
        check("kv", kv("D", "1"), "attribute_exists(pk)"),
        put("kv", dict(kv("C", "1"), v=n(3))),
        delete("kv", kv("B", "1")),
        update("kv", kv("A", "2"), "SET v = :v", {":v": n(1)}),
        put("h", {"id": s("Y"), "v": n(7)}),
        delete("h", {"id": s("Z")}),
    ],
    "two_operations_on_one_item": [
        update("kv", kv("A", "1"), "ADD #c :one", {":one": n(1)}, {"#c": "count"}),
        put("kv", dict(kv("C", "1"), v=n(3))),
        update("kv", kv("C", "1"), "SET v = :v", {":v": n(4)}),
    ],
    "more_than_100_items": [put("kv", dict(kv("N", str(i)), v=n(i))) for i in range(101)],
    "an_item_with_two_operations": [
        update("kv", kv("A", "1"), "ADD #c :one", {":one": n(1)}, {"#c": "count"}),
        dict(put("kv", dict(kv("C", "1"), v=n(3))), **delete("kv", kv("B", "1"))),
        put("kv", dict(kv("F", "1"), v=n(3))),
    ],
    "an_unknown_table": [
        put("kv", dict(kv("C", "1"), v=n(3))),
        put("nope", {"id": s("1")}),
    ],
    "a_failed_update_after_applied_items": [
        delete("kv", kv("A", "1")),
        put("kv", dict(kv("C", "1"), v=n(3))),
        update("kv", kv("B", "1"), "ADD tags :n", {":n": n(1)}),
        update("kv", kv("E", "1"), "SET nested.l[0] = :v", {":v": n(2)}),
    ],
    "all_old_on_a_failed_condition": [
        update("kv", kv("E", "1"), "SET nested.l[0] = :v", {":v": n(2)}),
        check("kv", kv("A", "1"), "#c = :zero", all_old=True),
        put("kv", dict(kv("A", "9"), v=n(3)), cond="attribute_not_exists(pk)"),
    ],
    "a_condition_on_an_absent_item": [
        put("kv", dict(kv("C", "1"), v=n(3))),
        delete("kv", kv("Q", "1"), cond="attribute_exists(pk)"),
    ],
}
CASES["all_old_on_a_failed_condition"][1]["ConditionCheck"].update(
    ExpressionAttributeNames={"#c": "count"}, ExpressionAttributeValues={":zero": n(0)}
)


def outcome(c, items):
    """(error code, message, cancellation reasons) or "ok", and both tables."""
    try:
        c.transact_write_items(TransactItems=items)
        answer = "ok"
    except ClientError as e:
        err = e.response.get("Error", {})
        answer = (err.get("Code"), err.get("Message"), e.response.get("CancellationReasons"))
    tables = {}
    for t in ("kv", "h"):
        tables[t] = sorted(c.scan(TableName=t)["Items"], key=repr)
        tables[t + " count"] = c.describe_table(TableName=t)["Table"]["ItemCount"]
    return answer, tables


class SameAsMoto(unittest.TestCase):
    """The emulator's method answers and leaves the tables as moto's does."""

    def run_case(self, method, items):
        models.DynamoDBBackend.transact_write_items = method
        try:
            with mock_aws():
                c = boto3.client("dynamodb", region_name=REGION)
                create_tables(c)
                seed(c)
                return outcome(c, items)
        finally:
            models.DynamoDBBackend.transact_write_items = OURS

    def test_every_case_matches_moto(self):
        for name, items in CASES.items():
            with self.subTest(name):
                theirs = self.run_case(MOTOS, items)
                ours = self.run_case(OURS, items)
                self.assertEqual(ours[0], theirs[0], name)
                self.assertEqual(ours[1], theirs[1], name)
                if name == "cancelled_by_a_condition":
                    self.assertEqual(ours[0][0], "TransactionCanceledException")
                    codes = [r["Code"] for r in ours[0][2]]
                    self.assertEqual(codes, ["None", "ConditionalCheckFailed"] + ["None"] * 5)
                if name == "successful":
                    self.assertEqual(ours[0], "ok")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatorServer(unittest.TestCase):
    """The emulator served on a free port, front on (as the load run uses
    it), with a boto3 client that does not retry."""

    @classmethod
    def setUpClass(cls):
        port = free_port()
        cls.url = "http://127.0.0.1:{}".format(port)
        cls.log = open(os.devnull, "w")
        cls.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "127.0.0.1", str(port), "--front"], stdout=cls.log, stderr=cls.log
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(cls.url + "/_front/stats", timeout=2).read()
                break
            except OSError:
                if cls.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start")
                time.sleep(0.1)
        cls.c = boto3.client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=cls.url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )
        create_tables(cls.c)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.log.close()


class Served(EmulatorServer):
    """Transactions through the emulator's HTTP server."""

    def setUp(self):
        for t, keys in (("kv", ("pk", "sk")), ("h", ("id",))):
            for item in self.c.scan(TableName=t)["Items"]:
                self.c.delete_item(TableName=t, Key={k: item[k] for k in keys})
        seed(self.c)

    def get(self, table, key):
        return self.c.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def test_a_cancelled_transaction_changes_none_of_its_items(self):
        before = {
            "A": self.get("kv", kv("A", "1")),
            "B": self.get("kv", kv("B", "1")),
            "D": self.get("kv", kv("D", "1")),
            "X": self.get("h", {"id": s("X")}),
            "Z": self.get("h", {"id": s("Z")}),
        }
        self.assertIsNotNone(before["B"])
        with self.assertRaises(ClientError) as e:
            self.c.transact_write_items(TransactItems=CASES["cancelled_by_a_condition"])
        self.assertEqual(e.exception.response["Error"]["Code"], "TransactionCanceledException")
        self.assertEqual(self.get("kv", kv("A", "1")), before["A"], "updated item")
        self.assertEqual(self.get("kv", kv("B", "1")), before["B"], "deleted item")
        self.assertEqual(self.get("kv", kv("D", "1")), before["D"], "checked item")
        self.assertIsNone(self.get("kv", kv("C", "1")), "created item")
        self.assertEqual(self.get("h", {"id": s("X")}), before["X"], "updated item")
        self.assertIsNone(self.get("h", {"id": s("Y")}), "created item")
        self.assertEqual(self.get("h", {"id": s("Z")}), before["Z"], "deleted item")

    def test_a_successful_transaction_applies_every_item(self):
        self.c.transact_write_items(TransactItems=CASES["successful"])
        self.assertEqual(self.get("kv", kv("A", "1"))["count"], n(6))
        self.assertEqual(self.get("kv", kv("C", "1"))["v"], n(3))
        self.assertIsNone(self.get("kv", kv("B", "1")))
        self.assertEqual(self.get("kv", kv("A", "2"))["v"], n(1))
        self.assertEqual(self.get("h", {"id": s("Y")})["v"], n(7))
        self.assertIsNone(self.get("h", {"id": s("Z")}))


class ItemTrace(EmulatorServer):
    """The front's per-item counts of admitted writes and reads."""

    def front(self, method, path, body=None):
        req = urllib.request.Request(
            self.url + path, method=method, data=None if body is None else json.dumps(body).encode()
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def test_writes_and_reads_are_counted_per_item(self):
        c, t = self.c, "trace"
        c.create_table(
            TableName=t,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        c.put_item(TableName=t, Item=dict(kv("A", "1"), v=n(1)))
        c.put_item(TableName=t, Item=dict(kv("A", "1"), v=n(2)))
        c.update_item(TableName=t, Key=kv("A", "1"), UpdateExpression="ADD v :one", ExpressionAttributeValues={":one": n(1)})
        c.delete_item(TableName=t, Key=kv("B", "1"))
        c.transact_write_items(
            TransactItems=[
                update(t, kv("A", "1"), "ADD v :one", {":one": n(1)}),
                put(t, dict(kv("C", "1"), v=n(3))),
            ]
        )
        c.batch_write_item(
            RequestItems={t: [{"PutRequest": {"Item": kv("D", "1")}}, {"PutRequest": {"Item": kv("A", "1")}}]}
        )
        c.get_item(TableName=t, Key=kv("A", "1"))
        c.batch_get_item(RequestItems={t: {"Keys": [kv("A", "1"), kv("C", "1")]}})
        c.transact_get_items(TransactItems=[{"Get": {"TableName": t, "Key": kv("C", "1")}}])
        c.query(TableName=t, KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": s("A")})

        hot = self.front("GET", "/_front/stats?table=trace&top=2")["hot_items"]
        self.assertEqual(hot["top"], 2)
        self.assertEqual(hot["items"], 4)
        self.assertEqual(
            hot["by_writes"][0],
            {"table": t, "key": {"pk": "A", "sk": "1"}, "writes": 5, "transactional_writes": 1, "reads": 2},
        )
        self.assertEqual(len(hot["by_writes"]), 2)
        self.assertEqual(
            sorted((e["key"]["pk"], e["reads"]) for e in hot["by_reads"]),
            [("A", 2), ("C", 2)],
        )
        everything = self.front("GET", "/_front/stats?table=trace&top=10")["hot_items"]
        writes = {e["key"]["pk"]: (e["writes"], e["transactional_writes"]) for e in everything["by_writes"]}
        self.assertEqual(writes, {"A": (5, 1), "B": (1, 0), "C": (1, 1), "D": (1, 0)})
        self.assertEqual(len(everything["by_reads"]), 2, "items never read are left out")
        self.assertEqual(self.front("GET", "/_front/stats?top=1")["hot_items"]["by_writes"][0]["key"]["pk"], "A")

        self.front("POST", "/_front/reset", {"table": t})
        self.assertEqual(self.front("GET", "/_front/stats?table=trace")["hot_items"]["items"], 0)


class Timing(unittest.TestCase):
    """The figure: TXN_BENCH_COUNT transactions on 20 000 items, both ways."""

    ITEMS = 20000

    def timed(self, method, count):
        models.DynamoDBBackend.transact_write_items = method
        try:
            with mock_aws():
                c = boto3.client("dynamodb", region_name=REGION)
                create_tables(c)
                backend = models.dynamodb_backends["123456789012"][REGION]
                for i in range(self.ITEMS):
                    backend.put_item("kv", dict(kv("P{}".format(i // 10), str(i)), v=n(i), text=s("x" * 50)))
                started = time.perf_counter()
                for i in range(count):
                    items = [
                        update("kv", kv("STATS", "day"), "ADD pushes :one", {":one": n(1)}),
                        put("kv", dict(kv("PUSH", str(i)), v=n(i)), cond="attribute_not_exists(pk)"),
                    ]
                    if i % 4 == 3:  # a cancelled one now and then
                        items.append(check("kv", kv("P0", "0"), "attribute_not_exists(pk)"))
                    try:
                        c.transact_write_items(TransactItems=items)
                    except ClientError:
                        pass
                took = time.perf_counter() - started
                count_row = c.get_item(TableName="kv", Key=kv("STATS", "day"))["Item"]["pushes"]
                return took, count_row
        finally:
            models.DynamoDBBackend.transact_write_items = OURS

    def test_time_of_transactions_on_a_large_table(self):
        count = int(os.environ.get("TXN_BENCH_COUNT", "200"))
        ours, ours_row = self.timed(OURS, count)
        moto, moto_row = self.timed(MOTOS, count)
        self.assertEqual(ours_row, moto_row)
        sys.stderr.write(
            "\n{} TransactWriteItems (1 in 4 cancelled) on a table of {} items, in-process:\n"
            "  moto's method (deep copy of the table): {:.2f} s ({:.1f} ms each)\n"
            "  the emulator's (copies of the named items): {:.2f} s ({:.2f} ms each)\n".format(
                count, self.ITEMS, moto, 1000 * moto / count, ours, 1000 * ours / count
            )
        )


if __name__ == "__main__":
    unittest.main()
