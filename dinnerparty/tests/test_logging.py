import logging

import pytest

from dinnerparty.logging import RedactFilter, redact

TOKEN = "Zq3xY7pL0aBcDeFgHiJkLmNoPqRsTuVw"


@pytest.mark.parametrize(
    "line",
    [
        f'"GET /parties/invite/{TOKEN}/ HTTP/1.1" 200',
        f"/parties/12/calendar.ics?invite={TOKEN}",
        f"/accounts/login/?next=/parties/invite/{TOKEN}/",
        f"/parties/12/calendar.ics?x=1&invite={TOKEN}&y=2",
    ],
)
def test_invite_tokens_are_cut_from_log_lines(line):
    cleaned = redact(line)

    assert TOKEN not in cleaned
    assert TOKEN[:4] + "…" in cleaned


def test_lines_without_tokens_are_untouched():
    line = '"GET /parties/12/ HTTP/1.1" 200'

    assert redact(line) == line


def test_the_filter_redacts_formatted_messages():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        (f"/parties/invite/{TOKEN}/",),
        None,
    )

    RedactFilter().filter(record)

    assert TOKEN not in record.getMessage()
    assert "/parties/invite/Zq3x…/" in record.getMessage()
