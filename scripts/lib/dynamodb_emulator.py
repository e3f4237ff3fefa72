"""The project's DynamoDB emulator: moto's server, with every request applied
one at a time.

moto applies a TransactWriteItems by deep-copying the tables it touches for
rollback; a concurrent request that changes the same table meanwhile makes
that copy fail ("dictionary changed size during iteration", HTTP 500). Real
DynamoDB applies each request atomically, so the faithful emulation is to
serialise requests: clients still interleave request by request, which is
exactly the concurrency the project's conditions and transactions guard
against. Connections stay keep-alive (threaded server), only the handling
of one request at a time is exclusive.

Usage: python dynamodb_emulator.py HOST PORT
"""

import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


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

    run_simple(host, port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
