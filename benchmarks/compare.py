"""lambda-fix beside Ruff, a bare libcst parse and a bare `ast` parse, on the same files in one run.

    python benchmarks/compare.py [CORPUS ...]            # default: this interpreter's site-packages
    python benchmarks/compare.py --generate 3000 DIR     # write a Lambda-heavy corpus of 3000 handlers

Prints wall time, files per second, the peak memory of the largest single process and of all of a
command's processes together, and each time as a ratio to Ruff's. Needs `ruff` on PATH (pip install ruff).
pythaw (a peer that looks for heavy initialisation in handlers) is timed too when `pythaw` is beside this
interpreter, on PATH, or named by the PYTHAW environment variable (pythaw needs Python 3.12 or newer for
some of its dependencies' wheels, so it may live in a virtual environment of its own). Not part of the
tests.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# A Lambda-heavy repository shaped like the public samples (aws-samples/serverless-patterns: median
# 54 lines a file): services of 50 handlers sharing a `common.py`; each handler logs, validates,
# routes and talks to AWS; one in five has a warm-start bug of some kind.
COMMON = '''"""Helpers every handler of the {service} service shares."""
import json
import logging
import os
from decimal import Decimal

logger = logging.getLogger(__name__)
STAGE = os.environ.get("STAGE", "dev")


class ValidationError(Exception):
    """The request is not one this service accepts."""


def _default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {{type(value).__name__}}")


def respond(status, body, headers=None):
    return {{
        "statusCode": status,
        "headers": {{"Content-Type": "application/json", **(headers or {{}})}},
        "body": json.dumps(body, default=_default),
    }}


def parse_body(event):
    body = event.get("body") or "{{}}"
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"body is not JSON: {{exc}}") from exc
'''

HEADER = '''"""{service}: {action} {entity} ({trigger} trigger)."""
import json
import logging
import os
import uuid
from datetime import datetime, timezone

import boto3
from common import ValidationError, parse_body, respond

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

TABLE_NAME = os.environ.get("TABLE_NAME", "{entity}-table")
REQUIRED_FIELDS = ({fields})
dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table(TABLE_NAME)
'''

HELPERS = '''

def validate(payload):
    missing = [name for name in REQUIRED_FIELDS if name not in payload]
    if missing:
        raise ValidationError(f"missing fields: {{', '.join(missing)}}")
    if not isinstance(payload.get("{first}"), str):
        raise ValidationError("{first} must be a string")
    return {{name: payload[name] for name in REQUIRED_FIELDS}}


def to_item(payload):
    item = dict(payload)
    item["pk"] = f"{entity}#{{payload['{first}']}}"
    item["created_at"] = datetime.now(timezone.utc).isoformat()
    item["id"] = str(uuid.uuid4())
    return item
'''

HANDLER_API = '''

def lambda_handler(event, context):
    logger.info("request %s", context.aws_request_id)
    method = event.get("httpMethod", "GET")
    try:
        if method == "POST":
            item = to_item(validate(parse_body(event)))
            table.put_item(Item=item)
            return respond(201, {{"id": item["id"]}})
        if method == "GET":
            key = (event.get("pathParameters") or {{}}).get("id")
            if not key:
                raise ValidationError("id is required")
            found = table.get_item(Key={{"pk": f"{entity}#{{key}}"}}).get("Item")
            return respond(200, found) if found else respond(404, {{"message": "not found"}})
        return respond(405, {{"message": f"{{method}} is not allowed"}})
    except ValidationError as exc:
        return respond(400, {{"message": str(exc)}})
    except Exception:
        logger.exception("{action} failed")
        return respond(500, {{"message": "internal error"}})
'''

HANDLER_SQS = '''

def process_record(record):
    payload = validate(json.loads(record["body"]))
    table.put_item(Item=to_item(payload))
    return payload["{first}"]


def lambda_handler(event, context):
    failures = []
    processed = 0
    for record in event.get("Records", []):
        try:
            process_record(record)
            processed += 1
        except (ValidationError, ValueError) as exc:
            logger.warning("record %s rejected: %s", record.get("messageId"), exc)
            failures.append({{"itemIdentifier": record.get("messageId")}})
    logger.info("processed %d of %d", processed, len(event.get("Records", [])))
    return {{"batchItemFailures": failures}}
'''

# The warm-start bugs, one per defective handler: (module-level code, first statement of the handler).
DEFECTS = [
    # state that leaks from one invocation into the next (LF001)
    ('''
seen_ids = []


def remember(item_id):
    seen_ids.append(item_id)
    return len(seen_ids)
''', '''    remember(event.get("id", "none"))
'''),
    # a client built on every invocation (LF004)
    ('', '''    sns = boto3.client("sns")
    sns.publish(TopicArn=os.environ.get("TOPIC_ARN", "arn"), Message=json.dumps({{"seen": True}}))
'''),
    # a fixed /tmp path (LF003)
    ('', '''    with open("/tmp/{entity}-last-event.json", "w") as dump:
        json.dump(event, dump)
'''),
    # a mutable default that accumulates (LF005)
    ('''

def tag(event, tags=[]):
    tags.append(event.get("source", "api"))
    return tags
''', '''    tag(event)
'''),
]

SERVICES = ["orders", "billing", "inventory", "shipping", "accounts", "catalog", "reviews", "search"]
ENTITIES = ["order", "invoice", "item", "parcel", "user", "product", "review", "query", "payment", "coupon"]
ACTIONS = ["create", "update", "import", "sync", "archive", "enrich", "score", "notify"]
FIELDS = ["name", "email", "sku", "amount", "currency", "quantity", "address", "status", "owner", "note"]


def _handler_source(chooser: random.Random, number: int) -> str:
    fields = chooser.sample(FIELDS, chooser.randint(2, 6))
    trigger = chooser.choice(["api", "sqs"])
    values = {"service": SERVICES[number // 50 % len(SERVICES)], "entity": chooser.choice(ENTITIES),
              "action": chooser.choice(ACTIONS), "trigger": trigger, "first": fields[0],
              "fields": "".join(f'"{f}", ' for f in fields).rstrip(" ")}
    module_code, first_statement = DEFECTS[chooser.randrange(len(DEFECTS))] if number % 5 == 0 else ("", "")
    handler = HANDLER_API if trigger == "api" else HANDLER_SQS
    marker = "    logger.info" if trigger == "api" else "    failures = []"
    handler = handler.replace(marker, first_statement + marker, 1)
    return (HEADER + module_code + HELPERS + handler).format(**values)


def generate(count: int, directory: Path) -> None:
    """A Lambda-heavy repository of `count` handler modules, and a `common.py` per 50 of them."""
    chooser = random.Random(7)
    for number in range(count):
        package = directory / f"service_{number // 50:03}"
        if not package.exists():
            package.mkdir(parents=True)
            (package / "common.py").write_text(COMMON.format(service=SERVICES[number // 50 % len(SERVICES)]))
        (package / f"handler_{number:05}.py").write_text(_handler_source(chooser, number))


def _parse_libcst(path: str) -> None:
    import libcst

    try:
        libcst.parse_module(Path(path).read_bytes())
    except Exception:  # noqa: BLE001 - measuring, not judging
        pass


def _parse_ast(path: str) -> None:
    import ast

    try:
        ast.parse(Path(path).read_bytes())
    except Exception:  # noqa: BLE001
        pass


def parse_all(kind: str, corpus: list[str]) -> None:
    files = [str(p) for root in corpus for p in Path(root).rglob("*.py")]
    worker = _parse_libcst if kind == "libcst" else _parse_ast
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(worker, files, chunksize=64))


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB of the largest process, peak RSS in MB of all its processes
    together), each command in a fresh child. The total is sampled from /proc every 20 ms (0 where
    there is no /proc); the largest comes from the kernel's own count."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    child = subprocess.Popen([sys.executable, "-c", probe, *command], stdout=subprocess.PIPE, text=True)
    total = 0.0
    while child.poll() is None:
        total = max(total, _tree_rss_mb(child.pid))
        time.sleep(0.02)
    seconds, peak_kb = child.communicate()[0].split()
    return float(seconds), int(peak_kb) / 1024, total


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of pid's descendants (the probe itself left out), in MB."""
    rss, stack = 0, _children(pid)
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        rss += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        stack.extend(_children(current))
    return rss / 1024


def _children(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    found = []
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _ruff() -> str:
    """ruff beside this interpreter (a virtual environment not activated) or on PATH."""
    beside = Path(sys.executable).parent / "ruff"
    found = str(beside) if beside.exists() else shutil.which("ruff")
    if found is None:
        sys.exit("ruff is needed: pip install ruff")
    return found


def _pythaw() -> str | None:
    """pythaw named by PYTHAW, beside this interpreter, or on PATH; None when there is none."""
    if os.environ.get("PYTHAW"):
        return os.environ["PYTHAW"]
    beside = Path(sys.executable).parent / "pythaw"
    return str(beside) if beside.exists() else shutil.which("pythaw")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="*")
    parser.add_argument("--generate", type=int, metavar="N")
    parser.add_argument("--parse", choices=["libcst", "ast"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.generate:
        generate(arguments.generate, Path(arguments.corpus[0]))
        return
    corpus = arguments.corpus or [sysconfig.get_paths()["purelib"]]
    if arguments.parse:
        parse_all(arguments.parse, corpus)
        return
    files = sum(1 for root in corpus for _ in Path(root).rglob("*.py"))
    size = sum(p.stat().st_size for root in corpus for p in Path(root).rglob("*.py")) / 2**20
    here = str(Path(__file__).resolve())
    lambda_fix = [sys.executable, "-m", "lambda_fix", "--check", "--exit-zero"]
    cache = tempfile.mkdtemp(prefix="lambda-fix-benchmark-cache-")
    commands = {
        "ruff check --no-cache": [_ruff(), "check", "--no-cache", "--exit-zero", "--quiet", *corpus],
        "lambda-fix --check --no-cache": [*lambda_fix, "--no-cache", *corpus],
        "lambda-fix --check, warm cache": [*lambda_fix, "--cache-dir", cache, *corpus],
        "ast.parse, all files": [sys.executable, here, "--parse", "ast", *corpus],
        "libcst.parse_module, all files": [sys.executable, here, "--parse", "libcst", *corpus],
    }
    pythaw = _pythaw()
    if pythaw is not None:
        # pythaw checks one path a run: one run a corpus, in turn.
        commands["pythaw check"] = ["sh", "-c", " && ".join(
            f"{shlex.quote(pythaw)} check --exit-zero {shlex.quote(root)} >/dev/null" for root in corpus)]
    else:
        print("pythaw: not found (PYTHAW=/path/to/pythaw to time it)")
    measure(commands["lambda-fix --check, warm cache"])  # fills the cache: the timed run reuses it
    print(f"corpus: {', '.join(corpus)}: {files} files, {size:.0f} MB; {os.cpu_count()} cores; "
          f"Python {sys.version.split()[0]}")
    try:
        results = {name: measure(command) for name, command in commands.items()}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    ruff_seconds = results["ruff check --no-cache"][0]
    print(f"{'':32} {'wall s':>8} {'files/s':>9} {'peak MB':>8} {'all MB':>7} {'x ruff':>7}")
    for name, (seconds, peak, total) in results.items():
        print(f"{name:32} {seconds:8.2f} {files / seconds:9.0f} {peak:8.0f} {total:7.0f} {seconds / ruff_seconds:7.2f}")


if __name__ == "__main__":
    main()
