"""common.sql: constants written into a statement's text."""

import pytest

from common.sql import constant


@pytest.mark.parametrize("word", ["", "READY", "sent_2"])
def test_a_plain_word_is_quoted_into_the_sql(word):
    assert constant(word).sql == f"'{word}'"
    assert constant(word).params == ()


@pytest.mark.parametrize("text", ["it's", "a b", "x'; DROP TABLE accounts_user; --", "é", "\x00"])
def test_anything_but_a_plain_word_is_refused(text):
    with pytest.raises(ValueError, match="not a plain word"):
        constant(text)
