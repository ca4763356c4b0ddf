"""`python -m lambda_fix`: the command line."""

from .cli import main

main(prog_name="lambda-fix")
