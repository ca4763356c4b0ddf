"""lambda-fix beside Ruff, a bare libcst parse and a bare `ast` parse, on the same files in one run.

    python benchmarks/compare.py [CORPUS ...]            # default: this interpreter's site-packages
    python benchmarks/compare.py --generate 3000 DIR     # write a Lambda-heavy corpus of 3000 handlers

Prints wall time, files per second, the largest single process's peak memory, and each time as a
ratio to Ruff's. Needs `ruff` on PATH (pip install ruff). Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TEMPLATES = [
    # a leak (LF001)
    'results = []\n\n\ndef collect(item):\n    results.append(item)\n\n\n'
    'def lambda_handler(event, context):\n    for item in event["items"]:\n        collect(item)\n'
    '    return {{"count": len(results), "n": {n}}}\n',
    # a client built per invocation (LF004)
    'import boto3\n\n\ndef lambda_handler(event, context):\n    s3 = boto3.client("s3")\n'
    '    return s3.get_object(Bucket="b{n}", Key=event["key"])\n',
    # a fixed /tmp path (LF003)
    'import json\n\n\ndef lambda_handler(event, context):\n    with open("/tmp/out{n}.json", "a") as f:\n'
    '        f.write(json.dumps(event))\n    return {{"ok": True}}\n',
    # clean handlers: most real handlers have nothing to fix
    'import os\n\nTABLE = os.environ.get("TABLE", "t{n}")\n\n\ndef lambda_handler(event, context):\n'
    '    total = sum(r["amount"] for r in event["records"])\n    return {{"table": TABLE, "total": total}}\n',
    'def handler(event, context):\n    name = event.get("name", "world")\n    return {{"message": f"hello {{name}} {n}"}}\n',
]


def generate(count: int, directory: Path) -> None:
    """A Lambda-heavy repository: `count` handler modules in packages of 50, a fifth with something to fix."""
    chooser = random.Random(7)
    for number in range(count):
        package = directory / f"service_{number // 50:03}"
        package.mkdir(parents=True, exist_ok=True)
        template = TEMPLATES[chooser.randrange(len(TEMPLATES))] if number % 5 == 0 else TEMPLATES[3 + number % 2]
        (package / f"handler_{number:05}.py").write_text(template.format(n=number))


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


def measure(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the largest process), each command in a fresh child."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    output = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True)
    seconds, peak_kb = output.stdout.split()
    return float(seconds), int(peak_kb) / 1024


def _ruff() -> str:
    """ruff beside this interpreter (a virtual environment not activated) or on PATH."""
    beside = Path(sys.executable).parent / "ruff"
    found = str(beside) if beside.exists() else shutil.which("ruff")
    if found is None:
        sys.exit("ruff is needed: pip install ruff")
    return found


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
    commands = {
        "ruff check --no-cache": [_ruff(), "check", "--no-cache", "--exit-zero", "--quiet", *corpus],
        "lambda-fix --check": [sys.executable, "-c", "from lambda_fix.cli import main; main()", "--check",
                               "--exit-zero", "--format", "json", *corpus],
        "ast.parse, all files": [sys.executable, here, "--parse", "ast", *corpus],
        "libcst.parse_module, all files": [sys.executable, here, "--parse", "libcst", *corpus],
    }
    print(f"corpus: {', '.join(corpus)}: {files} files, {size:.0f} MB; {os.cpu_count()} cores; "
          f"Python {sys.version.split()[0]}")
    results = {name: measure(command) for name, command in commands.items()}
    ruff_seconds = results["ruff check --no-cache"][0]
    print(f"{'':32} {'wall s':>8} {'files/s':>9} {'peak MB':>8} {'x ruff':>7}")
    for name, (seconds, peak) in results.items():
        print(f"{name:32} {seconds:8.2f} {files / seconds:9.0f} {peak:8.0f} {seconds / ruff_seconds:7.2f}")


if __name__ == "__main__":
    main()
