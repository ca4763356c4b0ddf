"""Random Lambda modules built around the hazards lambda-fix exists for: module state the handler
writes, fixed /tmp paths, clients built per call, mutable defaults, each in random surroundings
(conditions, loops, helpers, noise statements, comments). Deterministic for a seed."""

from __future__ import annotations

import random

STATE_VALUES = ["[]", "{}", "set()", "collections.defaultdict(list)", "collections.deque()", "0", "[1, 2]",
                '{"seen": 0}']
NOISE = ["size = len(str(event))", "logger.info('event %s', event)", "flag = bool(event.get('flag'))",
         "# a comment between statements", "total = sum(range(3))", "name = str(event.get('name', ''))"]


HAZARDS = ("state", "state_in_helper", "tmp", "tmp_in_directory", "client", "default", "counter")
# What is fixed: not an invocation counter, which is reported (counting warm invocations may be the
# point), nor a file under a fixed /tmp directory that the handler also names, which LF003 reports (the
# two paths would have to change together). A module of these is rewritten whole, so warm and cold must
# agree on all of it.
FIXABLE = tuple(h for h in HAZARDS if h not in ("counter", "tmp_in_directory"))


def module(seed: int, hazards: tuple[str, ...] = HAZARDS) -> str:
    rng = random.Random(seed)
    lines = ["import collections", "import json", "import logging", "import os", "", "import boto3", "",
             "logger = logging.getLogger(__name__)"]
    handler: list[list[str]] = []  # blocks of lines: noise goes between blocks, never inside one
    globals_first: list[str] = []
    helpers: list[str] = []
    for number in range(rng.randint(1, 3)):
        hazard = rng.choice(hazards)
        name = f"items_{number}"
        if hazard in ("state", "state_in_helper"):
            value = rng.choice(STATE_VALUES)
            lines.append(f"{name} = {value}")
            if value == "0":
                globals_first.append(f"global {name}")
                write = [f"{name} += len(event.get('records', []))"]
            elif value.startswith("{") or "defaultdict" in value:
                write = [f"{name}[str(event.get('id'))] = event.get('value')"] if "defaultdict" not in value \
                    else [f"{name}[str(event.get('id'))].append(event.get('value'))"]
            elif value == "set()":
                write = [f"{name}.add(str(event.get('id')))"]
            else:
                write = [f"{name}.append(event.get('id'))"]
            if hazard == "state_in_helper" and value != "0":
                helpers += [f"def record_{number}(event):", *("    " + w for w in write), ""]
                write = [f"record_{number}(event)"]
            handler += [_surround(rng, write),
                        [f"result['{name}'] = len({name}) if not isinstance({name}, int) else {name}"]]
        elif hazard in ("tmp", "tmp_in_directory"):
            path = "/tmp/work/data.txt" if hazard == "tmp_in_directory" else \
                rng.choice(["/tmp/output.json", "/tmp/report.csv"])
            if "work" in path:
                handler += [["os.makedirs('/tmp/work', exist_ok=True)"]]
            handler += [[f"with open({path!r}, 'a') as stream_{number}:",
                         f"    stream_{number}.write(json.dumps(event) + '\\n')"],
                        [f"with open({path!r}) as stream_{number}:",
                         f"    result['lines_{number}'] = len(stream_{number}.readlines())"]]
        elif hazard == "client":
            service = rng.choice(["s3", "dynamodb", "sqs"])
            handler += [[f"client_{number} = boto3.client({service!r})"],
                        [f"result['client_{number}'] = type(client_{number}).__name__"]]
        elif hazard == "default":
            helpers += [f"def collect_{number}(value, acc=[]):", "    acc.append(value)", "    return acc", ""]
            handler += [[f"result['collected_{number}'] = list(collect_{number}(event.get('id')))"]]
        else:
            lines.append(f"calls_{number} = 0")
            globals_first.append(f"global calls_{number}")
            handler += [[f"calls_{number} += 1"], [f"result['calls_{number}'] = calls_{number}"]]
    lines += ["", ""]
    lines += helpers
    body = ["result = {}"]
    for block in handler:
        if rng.random() < 0.3:
            body.append(rng.choice(NOISE))
        body += block
    body.append("return result")
    lines += ["", "def lambda_handler(event, context):", *("    " + s for s in [*globals_first, *body]), ""]
    return "\n".join(lines)


def _surround(rng: random.Random, statements: list[str]) -> list[str]:
    """The statements as they are, under a condition on the event, or in a loop over its records."""
    shape = rng.choice(["plain", "if", "for", "try"])
    if shape == "plain":
        return statements
    if shape == "if":
        return ["if event.get('id') is not None:", *("    " + s for s in statements)]
    if shape == "try":
        return ["try:", *("    " + s for s in statements), "except KeyError:", "    pass"]
    return ["for _ in event.get('records', [None]):", *("    " + s for s in statements)]
