"""gunicorn settings for the web processes. Every value can be set from the environment."""

import multiprocessing
import os

from ketaminecare.gunicorn_errors import install as answer_errors_in_json

# gunicorn's own refusals (below) answer in the API's JSON error shape, not an HTML page.
answer_errors_in_json()

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then so that slow growth in a process cannot become an outage.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The proxy in front terminates TLS and sets X-Forwarded-*; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Access log lines hold method, path (ids only, never names), status, size and timing.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Feed tokens in paths are credentials: masked before a line is written.
logger_class = "ketaminecare.gunicorn_logging.RedactingLogger"
access_log_format = (
    '{"remote":"%(h)s","request":"%(m)s %(U)s","status":%(s)s,"bytes":%(B)s,"ms":%(M)s,'
    '"request_id":"%({x-request-id}o)s"}'
)
errorlog = "-"
preload_app = True
# What gunicorn itself accepts, before the application's own limits (ketaminecare/limits.py: a URL
# of MAX_URL_LENGTH characters, a body of MAX_REQUEST_BODY_BYTES): a request line of at most 8190
# bytes (gunicorn's ceiling), at most 100 header fields of at most 8190 bytes each.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "8190"))
limit_request_fields = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELDS", "100"))
limit_request_field_size = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "8190"))
# gunicorn's control socket (for gunicornc) defaults to one path per user, which every gunicorn
# that user runs on the host would share and take from each other: off unless given a path
# (by this variable: a --control-socket flag alone does not turn it back on).
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
