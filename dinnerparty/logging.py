import logging

from dinnerparty.middleware import request_id_var


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
