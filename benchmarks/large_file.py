"""How lambda-fix's cost grows with one file's size, beside Ruff on the same file.

    python benchmarks/large_file.py [KIB ...]     # default: 100 200 400 800

Each file is one handler module with many helpers (a client built per call, a /tmp path and state
appended from the event in each). Prints, per size, wall time and peak memory of `lambda-fix --check`
and `lambda-fix --diff` (which builds and verifies the rewrite), and of `ruff check`. Needs `ruff` on
PATH for its column (pip install ruff). Not part of the tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HELPER = '''def helper_{i}(event, value):
    s3 = boto3.client("s3")
    STATE.append(event["id"])
    with open("/tmp/out_{i}.json", "w") as stream:
        stream.write(str(value))
    return s3.list_buckets()


'''


def module_of(kib: int) -> str:
    parts, size, i = ["import boto3\n\nSTATE = []\n\n\n"], 0, 0
    while size < kib * 1024:
        parts.append(HELPER.format(i=i))
        size += len(parts[-1])
        i += 1
    parts.append("def lambda_handler(event, context):\n    return helper_0(event, 1)\n")
    return "".join(parts)


def main(sizes: list[int]) -> None:
    ruff = shutil.which("ruff")
    print(f"{'KiB':>6} {'check s':>8} {'check MB':>9} {'diff s':>8} {'diff MB':>8} {'ruff s':>7}")
    for kib in sizes:
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            (root / "app.py").write_text(module_of(kib))
            base = [sys.executable, "-m", "lambda_fix", "--no-cache", "-j", "1", "--max-file-size", str(kib * 2)]
            # Each in a fresh interpreter, so one's peak does not hide the next one's (ru_maxrss is a maximum).
            check = _isolated(base + ["--check", "app.py"], root)
            rewrite = _isolated(base + ["--diff", "app.py"], root)
            command = [ruff, "check", "--no-cache", "--isolated", "app.py"]
            ruff_time = _isolated(command, root)[0] if ruff else float("nan")
            print(f"{kib:>6} {check[0]:>8.2f} {check[1]:>9.0f} {rewrite[0]:>8.2f} {rewrite[1]:>8.0f} {ruff_time:>7.2f}")


def _isolated(command: list[str], cwd: Path) -> tuple[float, float]:
    runner = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
              "subprocess.run(sys.argv[1:], capture_output=True); "
              "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", runner, *command], cwd=cwd, capture_output=True, text=True,
                         check=True).stdout
    seconds, megabytes = out.split()
    return float(seconds), float(megabytes)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 200, 400, 800])
