import sys
from pathlib import Path

import pytest

# The tests import their helpers by module name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test (and every lambda-fix it starts) gets its own empty cache, never the repository's."""
    monkeypatch.setenv("LAMBDA_FIX_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(autouse=True, scope="session")
def _private_cache_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The cache's key (cache_key.py) in a directory of the tests' own, never the user's."""
    import os

    os.environ["LAMBDA_FIX_KEY_DIR"] = str(tmp_path_factory.mktemp("key"))
