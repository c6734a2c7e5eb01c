"""moto server, as `moto_server -H HOST -p PORT` starts it, with DynamoDB requests handled one at
a time.

moto's DynamoDB backend takes no locks, and its server handles requests on threads: two
conditional PutItems can both succeed, concurrent UpdateItem ADDs lose increments, and a
cancelled TransactWriteItems puts back a copy of the whole table taken before it began, erasing
what other requests wrote meanwhile. DynamoDB itself does none of this, and Petrel's own
concurrency (a queue worker beside the API, fan-out writes in parallel) made tests fail now and
then against moto. SQS and S3 requests stay concurrent: a long poll must not hold up the rest.

    python infra/local/moto_server.py 127.0.0.1 5000
"""

import os
import sys
import threading

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()
_app = DomainDispatcherApplication(create_backend_app)
_app.debug = True  # as moto_server sets it


def app(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _dynamodb:
            # The whole response is made under the lock (an iterable could run past it).
            return [b"".join(_app(environ, start_response))]
    return _app(environ, start_response)


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto_server sets it (queue URLs use it)
    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)
