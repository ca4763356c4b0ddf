"""lambda-fix: make AWS Lambda handlers safe for warm starts.

The Python API does what the command line does:

    from lambda_fix import Config, Mode, Settings, run, check_source
    summary = run(["src/"], Config(), Mode.DIFF)       # one Config for every file
    summary = run(["."], Settings(), Mode.DIFF)         # each file its project's pyproject.toml
    result = check_source(source_text)
"""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, ConfigError, Settings  # noqa: E402
from .engine import Mode, check_source, run  # noqa: E402
from .model import Applicability, FileResult, Finding, Fix, RunSummary, Status  # noqa: E402

__all__ = ["Applicability", "Config", "ConfigError", "FileResult", "Finding", "Fix", "Mode", "RunSummary",
           "Settings", "Status", "check_source", "run", "__version__"]
