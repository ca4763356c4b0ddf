"""Stand-ins for the parts of AWS Lambda Powertools the behaviour tests use."""

from .logging import Logger  # noqa: F401 - as `from aws_lambda_powertools import Logger`
