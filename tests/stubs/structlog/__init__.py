"""A stand-in for structlog: its context variables, which the behaviour tests use."""

from . import contextvars  # noqa: F401 - as `import structlog; structlog.contextvars.bind_contextvars(...)`
