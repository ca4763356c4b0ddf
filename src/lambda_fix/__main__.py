"""`python -m lambda_fix`: the command line."""

from .cli import entry

entry()
