"""The project's DynamoDB emulator: moto's server, with every request applied
one at a time.

moto applies a TransactWriteItems by deep-copying the tables it touches for
rollback; a concurrent request that changes the same table meanwhile makes
that copy fail ("dictionary changed size during iteration", HTTP 500). Real
DynamoDB applies each request atomically, so the faithful emulation is to
serialise requests: clients still interleave request by request, which is
exactly the concurrency the project's conditions and transactions guard
against. Only the handling of one request at a time is exclusive.

Served by waitress, not moto's own werkzeug server: werkzeug closes every
connection after one response ("Connection: close"), so each DynamoDB
request opened a new TCP connection and the emulator's side kept each old
one in TIME_WAIT. When a client port came round again while the emulator
still held that 4-tuple in TIME_WAIT, the new SYN was answered with an ACK
for the old connection, reset, and sent again after Linux's 1 s initial
retransmission timeout: the ~1 s outliers the warm-latency benchmarks
showed at p99. waitress keeps HTTP/1.1 connections alive, as DynamoDB does.

Usage: python dynamodb_emulator.py HOST PORT
"""

import os
import signal
import sys
import threading

import waitress
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Materialise the body inside the lock: the response is built
            # from backend state that the next request may change.
            return list(app(environ, start_response))

    # DynamoDB's requests carry no header with an underscore, so moto's
    # werkzeug request handler (which keeps S3's) is not needed here.
    waitress.serve(
        serialised,
        host=host,
        port=port,
        threads=16,
        connection_limit=1000,
        channel_timeout=120,
        ident="offpush-dynamodb-emulator",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
