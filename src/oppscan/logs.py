"""Structured logs: one JSON line per lookup and per state change."""

from __future__ import annotations

import logging
import sys

import orjson
import structlog


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # orjson: the access line is written for every status poll, the hot path.
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=lambda *args: StderrLogger(),
        cache_logger_on_first_use=True,
    )


class StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is now, not the one at configure time.

    A CLI test runner swaps ``sys.stderr`` and closes its stand-in; a logger bound to it would
    fail on every later line.
    """

    def msg(self, message: bytes) -> None:
        stream = sys.stderr
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(message + b"\n")
        else:
            stream.write(message.decode() + "\n")
        stream.flush()

    log = debug = info = warning = error = critical = exception = msg


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
