"""Calls that build expensive per-environment objects, and calls that yield per-request credentials."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .module import ModuleInfo

# Qualified names (after import resolution) and method names of client factories. A value built by
# one of these is a client, connection or session: caching it is what Lambda code should do.
CLIENT_FACTORIES = frozenset({
    "boto3.client", "boto3.resource", "boto3.Session", "boto3.session.Session",
    "botocore.session.get_session", "botocore.session.Session",
    "pymysql.connect", "psycopg2.connect", "psycopg.connect", "mysql.connector.connect",
    "redis.Redis", "redis.StrictRedis", "redis.from_url", "pymongo.MongoClient",
    "sqlalchemy.create_engine", "requests.Session", "httpx.Client", "httpx.AsyncClient",
    "urllib3.PoolManager", "opensearchpy.OpenSearch", "elasticsearch.Elasticsearch",
})
SESSION_FACTORIES = frozenset({"boto3.Session", "boto3.session.Session"})
# session.client("s3") / session.resource("dynamodb") on any receiver
CLIENT_METHODS = frozenset({"client", "resource", "Table", "Bucket", "Queue"})

# Method names whose results are short-lived credentials issued for this request.
CREDENTIAL_METHODS = frozenset({"assume_role", "assume_role_with_web_identity",
                                "assume_role_with_saml", "get_session_token", "get_federation_token"})
# The last name every call may_build_client accepts spells: a factory's own, `client` or `resource`
# (or a name an import binds to a factory, which is the module's own).
FACTORY_CALL_NAMES = frozenset({"client", "resource", *(name.rsplit(".", 1)[-1] for name in CLIENT_FACTORIES)})


# The cheap test on raw text for a module without a handler (a helper module a handler calls into):
# it names the package of a factory. False positives only cost a parse.
_FACTORY_PACKAGES = re.compile(r"\b(?:%s)\b" % "|".join(sorted({name.split(".")[0] for name in CLIENT_FACTORIES})))


def may_name_a_factory(source: str) -> bool:
    return _FACTORY_PACKAGES.search(source) is not None


def may_build_client(module: ModuleInfo, call: ast.Call) -> bool:
    """Could call build a client? A known factory by its qualified name, or `.client(...)` or
    `.resource(...)` on anything. The flow narrows the latter to sessions' (flow._client_factory);
    LF004's first test asks this of every call in a function."""
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in ("client", "resource") \
        or module.qualified_name(func) in CLIENT_FACTORIES
