"""How many times lambda-fix parses each file, and what a cold run costs beside a bare parse of the same files.

    python benchmarks/parses.py CORPUS [CORPUS ...]          # the paths are one run, as compare.py takes them
    python benchmarks/parses.py --repeat 1 CORPUS --copies   # one timing each, no copies (quick)
    python benchmarks/parses.py --copies 1 2 4 8 -j 1 CORPUS  # the copies' runs with one process
    git archive HEAD src | tar -x -C /var/tmp/head && PYTHONPATH=/var/tmp/head/src python benchmarks/parses.py CORPUS

It measures the lambda_fix that this interpreter imports (the header names it); the last line measures a
commit rather than a working tree that is being edited.

Four parts, each a fresh process per command:

1. Parses per file: one cold `lambda-fix --check --no-cache -j 1` in a process where `ast.parse`,
   `libcst.parse_module` and `compile` (not counting the `compile` inside `ast.parse`) count their calls,
   by the file name they are given (libcst's parser takes none: its texts are matched to the files by
   content). Prints the files, the calls, the calls per file (mean, max, how many files were parsed
   0, 1, 2 ... times), the five files parsed most often, and where in lambda-fix the calls come from.
2. A cold `lambda-fix --check --no-cache`, with one process per core and with `-j 1`, beside reading and
   `ast.parse`-ing every file it covers (`lambda_fix.discovery.discover`'s list) in one process and in
   one process per core; each lambda-fix time as a ratio to the parse with as many processes.
3. The same cold check on 1, 2 and 4 copies (`--copies`) of the corpus side by side in one directory
   (copied under /var/tmp: the walk follows no link out of its root), with the time per file and its
   ratio to the first size's: 1.00 at every size is linear, more is growth faster than the code; and
   the `ast.parse` calls per file at each size, from a counting run as in part 1.
4. Peak memory of each timed run, of its largest process and of all its processes together (as
   compare.py measures it).

Each timing is the lowest of `--repeat` rounds (default 3: a busy machine only ever adds time), a round
running each command of a part once; memory is the highest of the same runs. The load average before and
after each part is printed with it. Not part of the tests.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from compare import measure

PARSERS = ("ast.parse", "libcst.parse_module", "compile")


# ---- counting, inside the measured process -------------------------------------------------------


def count_parses(into: str, corpus: list[str]) -> None:
    """Run a cold `--check -j 1` in this process with the parsers counting, and write the counts to into."""
    import ast
    import builtins

    import libcst  # imported before lambda-fix asks for it, so that its parse_module is the counted one

    calls: dict[str, Counter[str]] = {name: Counter() for name in PARSERS}
    sites: dict[str, Counter[str]] = {name: Counter() for name in PARSERS}
    inside_ast_parse = [0]
    real_parse, real_parse_module, real_compile = ast.parse, libcst.parse_module, builtins.compile

    def note(parser: str, key: str) -> None:
        caller = sys._getframe(2).f_code  # 0: note, 1: the wrapper, 2: its caller
        where = caller.co_filename
        where = where[where.rfind("lambda_fix/"):] if "lambda_fix/" in where else os.path.basename(where)
        calls[parser][key] += 1
        sites[parser][f"{where}:{sys._getframe(2).f_lineno}"] += 1

    def parse(source: Any, filename: Any = "<unknown>", *args: Any, **kwargs: Any) -> Any:
        note("ast.parse", _file_key(filename))
        inside_ast_parse[0] += 1
        try:
            return real_parse(source, filename, *args, **kwargs)
        finally:
            inside_ast_parse[0] -= 1

    def parse_module(source: Any, *args: Any, **kwargs: Any) -> Any:
        note("libcst.parse_module", "text:" + _digest(source))
        return real_parse_module(source, *args, **kwargs)

    def compile_(source: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
        if not inside_ast_parse[0]:
            note("compile", _file_key(filename))
        return real_compile(source, filename, *args, **kwargs)

    def dump() -> None:
        Path(into).write_text(json.dumps({"calls": calls, "sites": sites}))

    ast.parse, libcst.parse_module, builtins.compile = parse, parse_module, compile_  # type: ignore[assignment]
    atexit.register(dump)  # click leaves through sys.exit
    from lambda_fix.cli import entry

    sys.argv = ["lambda-fix", "--check", "--no-cache", "-j", "1", "--exit-zero", *corpus]
    entry()


def _file_key(filename: Any) -> str:
    try:
        name = os.fsdecode(filename)
    except TypeError:
        return "<not a path>"
    return os.path.realpath(name) if os.path.isfile(name) else name


def _digest(text: str | bytes) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# ---- the parse floor, inside the measured process ------------------------------------------------


def _parse_one(path: str) -> None:
    import ast

    try:
        ast.parse(Path(path).read_bytes(), filename=path)
    except Exception:  # noqa: BLE001 - measuring, not judging
        pass


def parse_floor(listing: str, jobs: int) -> None:
    files = Path(listing).read_text().splitlines()
    if jobs == 1:
        for path in files:
            _parse_one(path)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_parse_one, files, chunksize=64))


# ---- the report ----------------------------------------------------------------------------------


def covered(corpus: list[str]) -> list[str]:
    """The files a run over corpus covers, as lambda-fix's own walk lists them."""
    from lambda_fix.discovery import discover

    return list(discover(corpus).files)


def counted(corpus: list[str], scratch: Path) -> dict[str, Any]:
    """The parsers' calls in a counting run over corpus: {"calls": {parser: {file: n}}, "sites": ...}."""
    counts = scratch / "counts.json"
    counts.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--count-into", str(counts), *corpus]
    measure(command)
    if not counts.exists():
        sys.exit(f"the counting run wrote nothing: {' '.join(command)}")
    return json.loads(counts.read_text())


def report_parses(corpus: list[str], files: list[str], scratch: Path) -> None:
    data = counted(corpus, scratch)
    real = {os.path.realpath(path): path for path in files}
    texts = _texts_of(files)
    print(f"\n1. Parses per file: a cold `--check --no-cache -j 1` ({len(files)} files)")
    for parser in PARSERS:
        by_file: Counter[str] = Counter()
        other = 0
        for key, number in data["calls"][parser].items():
            path = texts.get(key) if key.startswith("text:") else real.get(key)
            if path is None:
                other += number
            else:
                by_file[path] += number
        total = sum(by_file.values())
        print(f"\n   {parser}: {total} calls on the corpus's files, {other} on other texts "
              f"(fragments, rewrites, files outside it); per file: mean {total / max(1, len(files)):.2f}, "
              f"max {max(by_file.values(), default=0)}")
        if not total:
            continue
        times = Counter(by_file[path] for path in files)
        print("   files parsed n times: " + ", ".join(f"{n}x: {times[n]}" for n in sorted(times)))
        print("   parsed most often:")
        for path, number in by_file.most_common(5):
            print(f"     {number:5}  {_shown(path, corpus)}")
        print("   called from:")
        for site, number in Counter(data["sites"][parser]).most_common(6):
            print(f"     {number:5}  {site}")


def _texts_of(files: list[str]) -> dict[str, str]:
    """A file's path by the digest of its bytes and of its decoded text (libcst's parser is given either)."""
    texts: dict[str, str] = {}
    for path in files:
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue
        texts["text:" + _digest(data)] = path
        text = data.decode("utf-8-sig", "surrogateescape")
        texts["text:" + _digest(text.encode("utf-8", "surrogateescape"))] = path
    return texts


def _shown(path: str, corpus: list[str]) -> str:
    for root in corpus:
        if path.startswith(root.rstrip("/") + "/"):
            return os.path.join(os.path.basename(root.rstrip("/")), path[len(root.rstrip("/")) + 1:])
    return path


def timed(commands: dict[str, list[str]], repeat: int) -> dict[str, tuple[float, float, float]]:
    """Each command's lowest wall time over repeat rounds, and its highest peaks (largest process, all
    processes). A round runs every command once, so that a busy spell on the machine lands on all of them
    rather than on all the runs of one."""
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(measure(command))
    return {name: (min(r[0] for r in got), max(r[1] for r in got), max(r[2] for r in got))
            for name, got in runs.items()}


def _load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""


def report_floor(corpus: list[str], files: list[str], scratch: Path, repeat: int) -> None:
    cores = os.cpu_count() or 1
    listing = scratch / "files.txt"
    listing.write_text("\n".join(files) + "\n")
    here = str(Path(__file__).resolve())
    lambda_fix = [sys.executable, "-m", "lambda_fix", "--check", "--exit-zero", "--no-cache"]
    commands = {
        f"ast.parse, {cores} processes": [sys.executable, here, "--floor", str(listing), "--floor-jobs", str(cores)],
        "ast.parse, 1 process": [sys.executable, here, "--floor", str(listing), "--floor-jobs", "1"],
        "lambda-fix --check --no-cache": [*lambda_fix, *corpus],
        "lambda-fix --check --no-cache -j 1": [*lambda_fix, "-j", "1", *corpus],
    }
    before = _load()
    results = timed(commands, repeat)
    floors = {"lambda-fix --check --no-cache": f"ast.parse, {cores} processes",
              "lambda-fix --check --no-cache -j 1": "ast.parse, 1 process"}
    print(f"\n2. A cold check beside the parse floor (lowest of {repeat}; {cores} cores; {before}, after: {_load()})")
    print(f"   {'':36} {'wall s':>8} {'files/s':>9} {'peak MB':>8} {'all MB':>7} {'x parse':>8}")
    for name, (seconds, peak, total) in results.items():
        ratio = f"{seconds / results[floors[name]][0]:8.2f}" if name in floors else f"{'':8}"
        print(f"   {name:36} {seconds:8.2f} {len(files) / seconds:9.0f} {peak:8.0f} {total:7.0f} {ratio}")


def report_copies(corpus: list[str], copies: list[int], jobs: int | None, repeat: int) -> None:
    skipped = _skipped_directories()
    scratch = Path(tempfile.mkdtemp(prefix="lambda-fix-parses-copies-", dir="/var/tmp"))
    command = [sys.executable, "-m", "lambda_fix", "--check", "--exit-zero", "--no-cache"]
    command += ["-j", str(jobs)] if jobs is not None else []
    try:
        commands, files = {}, {}
        for number in copies:
            directory = scratch / f"x{number}"
            for copy in range(number):
                for index, root in enumerate(corpus):
                    # Dependencies and environments are left out: the walk skips them, and they are most of the bytes.
                    shutil.copytree(root, directory / f"copy_{copy}" / f"{index}_{Path(root).name}", symlinks=True,
                                    ignore=lambda _, names: [n for n in names if n in skipped])
            commands[number] = [*command, str(directory)]
            files[number] = len(covered([str(directory)]))
        before = _load()
        results = timed({str(number): run for number, run in commands.items()}, repeat)
        after = _load()
        # ast.parse calls on the copies' files per file, from a counting run (-j 1) over each size.
        parses = {}
        for number in copies:
            inside = os.path.realpath(scratch / f"x{number}") + "/"
            calls = counted([str(scratch / f"x{number}")], scratch)["calls"]["ast.parse"]
            parses[number] = sum(n for key, n in calls.items() if key.startswith(inside)) / max(1, files[number])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    spelled = f"-j {jobs}" if jobs is not None else "one process per core"
    print(f"\n3. Copies side by side in one directory (cold check, {spelled}; lowest of {repeat}; {before}, "
          f"after: {after})")
    print(f"   {'copies':>6} {'files':>7} {'wall s':>8} {'ms/file':>8} {'x first':>9} {'peak MB':>8} {'all MB':>7} "
          f"{'parses/file':>12}")
    first = None
    for number in copies:
        seconds, peak, total = results[str(number)]
        per_file = seconds / max(1, files[number])
        first = first or per_file
        print(f"   {number:>6} {files[number]:>7} {seconds:8.2f} {per_file * 1000:8.3f} {per_file / first:9.2f} "
              f"{peak:8.0f} {total:7.0f} {parses[number]:12.2f}")


def _skipped_directories() -> set[str]:
    from lambda_fix.discovery import SKIPPED_DIRECTORIES

    return set(SKIPPED_DIRECTORIES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="*")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs of each timing (default 3)")
    parser.add_argument("--copies", type=int, nargs="*", default=[1, 2, 4], metavar="N",
                        help="copies of the corpus for part 3 (default 1 2 4; none: leave part 3 out)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="lambda-fix's -j for part 3 (default: per core)")
    parser.add_argument("--count-into", help=argparse.SUPPRESS)
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    parser.add_argument("--floor-jobs", type=int, default=1, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.count_into:
        count_parses(arguments.count_into, arguments.corpus)
        return
    if arguments.floor:
        parse_floor(arguments.floor, arguments.floor_jobs)
        return
    if not arguments.corpus:
        parser.error("give at least one corpus directory")
    corpus = [os.path.abspath(root) for root in arguments.corpus]
    files = covered(corpus)
    size = sum(Path(path).stat().st_size for path in files) / 2**20
    import lambda_fix

    print(f"corpus: {', '.join(corpus)}: {len(files)} files lambda-fix covers, {size:.1f} MB; "
          f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")
    print(f"lambda_fix measured: {os.path.dirname(lambda_fix.__file__)}")
    with tempfile.TemporaryDirectory(prefix="lambda-fix-parses-") as scratch:
        report_parses(corpus, files, Path(scratch))
        report_floor(corpus, files, Path(scratch), arguments.repeat)
    if arguments.copies:
        report_copies(corpus, arguments.copies, arguments.jobs, arguments.repeat)


if __name__ == "__main__":
    main()
