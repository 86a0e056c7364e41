"""Reading change feeds in tests: skip the idle ticks (None), give up after a while."""

import time

import pytest

TIMEOUT = 5


def next_item(feed, timeout=TIMEOUT):
    """The next thing ``feed`` yields other than None, within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = next(feed)
        if item is not None:
            return item
    pytest.fail(f"the feed yielded nothing within {timeout} s")
