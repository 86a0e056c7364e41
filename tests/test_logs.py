"""The node's log formats (``log.format``): text as it always was, plus the request id; or one JSON object a line."""

import json
import logging

import pytest

from bigchaindb import logs


@pytest.fixture
def logged(capsys):
    """Log through ``logs.setup`` in a format; what reached standard error, as lines."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level

    def log(log_format, emit):
        logs.setup({"level": "INFO", "format": log_format})
        emit(logging.getLogger("bigchaindb.test"))
        return capsys.readouterr().err.splitlines()

    yield log
    root.handlers[:], level = saved
    root.setLevel(level)


def in_request(request_id, action):
    token = logs.REQUEST_ID.set(request_id)
    try:
        action()
    finally:
        logs.REQUEST_ID.reset(token)


def test_text_lines_are_as_before_and_name_the_request_they_belong_to(logged):
    def emit(logger):
        logger.info("outside")
        in_request("r-1", lambda: logger.warning("inside %s", "a request"))

    outside, inside = logged("text", emit)
    assert outside.endswith(" INFO MainProcess bigchaindb.test: outside")
    assert inside.endswith(" WARNING MainProcess bigchaindb.test [req r-1]: inside a request")


def test_json_lines_are_one_object_each_with_the_request_id_fields_and_traceback(logged):
    def emit(logger):
        def fail():
            try:
                raise ValueError("line one\nline two")
            except ValueError:
                logger.exception("failed")
        in_request("r-2", fail)
        logger.info("GET / 200", extra={"fields": {"status": 200, "path": "/"}})

    failed, access = (json.loads(line) for line in logged("json", emit))
    assert failed["request_id"] == "r-2" and failed["level"] == "ERROR" and failed["message"] == "failed"
    assert "ValueError: line one\nline two" in failed["exception"]
    assert failed["time"].endswith("+00:00")
    assert "request_id" not in access
    assert (access["status"], access["path"], access["logger"]) == (200, "/", "bigchaindb.test")
