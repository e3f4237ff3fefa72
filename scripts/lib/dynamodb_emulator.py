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
request opened a new TCP connection and left one in TIME_WAIT. waitress
keeps HTTP/1.1 connections alive, as DynamoDB does. (./scripts/bench.sh:
a 1000-recipient push took 876 ms with it, 944 ms without; the occasional
warm-latency outliers of up to about 1 s stayed: they are not this.)

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
