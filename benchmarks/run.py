"""kzquiz benchmarks: start-up, the shipped bank, growth to 20,000 questions, the genanki floor,
peak memory, and a profile of the 10k build.

Usage:
    python benchmarks/run.py                 # the full run, a table on stdout
    python benchmarks/run.py --repeat 3      # median of 3 runs per row (default 5)
    python benchmarks/run.py --json out.json # also write the numbers as JSON
    python benchmarks/run.py --quick         # 1k and 2k banks only, for a smoke run

Every row runs the installed `kzquiz` console script in a fresh process, as a user would, so
interpreter start-up and imports count. Times are wall-clock medians of N runs after one
warm-up run; memory is the child's peak resident set size (max RSS). Run it on an idle
machine: the numbers are only comparable within one run (the JSON records the load average).

What the rows mean:
- Children run without PYTHONDONTWRITEBYTECODE: an installed package runs from bytecode
  compiled at install time, so a shell that forbids writing bytecode would time the compiler.
- `kzquiz anki` and `build` write into the same folder on every run, so the warm-up creates
  the Anki state file and the timed runs are rebuilds that read it (the usual case: the
  state file is committed with the deck).
- The floor parses the same YAML with yaml-rs and writes one note per question with bare
  genanki (stored, not compressed), without validation, escaping, templates or state file:
  what any tool that makes this deck has to spend.
- The budgets are those of issue 9; a ratio is comparable across machines, an absolute time
  only on a machine like the one the budget was set on.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from genbank import write_bank  # noqa: E402


@dataclass
class Row:
    """One measured command."""

    name: str
    seconds: float
    runs: list[float] = field(default_factory=list)
    max_rss_mb: float = 0.0
    note: str = ""


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Installed packages run from compiled bytecode; a user's shell does not forbid it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("SOURCE_DATE_EPOCH", None)
    # Scratch files go into the benchmark's folder (genanki's write_to_file leaves its
    # SQLite file behind in the temp folder; this way it is deleted with the rest).
    env["TMPDIR"] = str(tmp)
    return env


def _kzquiz() -> list[str]:
    script = Path(sys.executable).parent / "kzquiz"
    found = str(script) if script.exists() else shutil.which("kzquiz")
    return [found] if found else [sys.executable, "-m", "kzquiz"]


def measure(name: str, argv: list[str], repeat: int, cwd: Path, note: str = "") -> Row:
    """Run argv `repeat` times after one warm-up; the median wall time and the peak RSS."""
    times, peak = [], 0
    scratch = Path(tempfile.mkdtemp(prefix="kzquiz-bench-run-"))
    for i in range(repeat + 1):
        # stderr goes to a file, not a pipe: a pipe nobody reads while the child runs would
        # stall a child that writes more than the pipe holds (many warnings, say).
        with open(scratch / "stderr", "w+b") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv, cwd=cwd, env=_env(scratch), stdout=subprocess.DEVNULL, stderr=err
            )
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                err.seek(0)
                raise SystemExit(f"{name}: exit {proc.returncode}\n{err.read().decode()}")
        if i:  # the first run warms caches and writes bytecode
            times.append(elapsed)
            peak = max(peak, usage.ru_maxrss)
    shutil.rmtree(scratch, ignore_errors=True)
    return Row(
        name, statistics.median(times), [round(t, 4) for t in times], round(peak / 1024, 1), note
    )


def build_steps(bank: Path, out: Path) -> list[dict[str, Any]]:
    """An in-process build, step by step: wall time and the process's peak RSS after each.

    Run in a fresh interpreter, so the peak is the build's own; it tells which step (and
    so which renderer) the time and the memory of a big build go to.
    """
    code = f"""
import importlib, json, resource, sys, time
from pathlib import Path
from kzquiz.build import STEPS
from kzquiz.loader import load_bank
from kzquiz.output import Outputs, write_files
def peak():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
steps = []
start = time.perf_counter()
loaded = load_bank(Path({str(bank)!r}))
steps.append(("load and validate", time.perf_counter() - start, peak()))
outputs = Outputs()
for label, target in STEPS:
    start = time.perf_counter()
    module, func = target.split(":")
    outputs.update(getattr(importlib.import_module(module), func)(loaded, Path({str(out)!r})))
    steps.append((label, time.perf_counter() - start, peak()))
start = time.perf_counter()
write_files(Path({str(out)!r}), outputs.files)
steps.append(("write files", time.perf_counter() - start, peak()))
json.dump(steps, sys.stdout)
"""
    env = _env(out.parent)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return [
        {"step": label, "seconds": round(seconds, 3), "peak_rss_mb": rss}
        for label, seconds, rss in json.loads(done.stdout)
    ]


def profile_build(bank: Path, out: Path, top: int = 12) -> str:
    """cProfile of an in-process `build` of the bank; the top functions by their own time."""
    from kzquiz.build import build_all
    from kzquiz.loader import load_bank

    profiler = cProfile.Profile()
    profiler.enable()
    build_all(load_bank(bank), out)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main() -> None:
    """Run every benchmark and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="small banks only")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    sizes = (1000, 2000) if args.quick else (1000, 10_000, 20_000)
    big = sizes[1]
    kz = _kzquiz()
    py = sys.executable
    rows: list[Row] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kzquiz-bench-") as tmp_name:
        tmp = Path(tmp_name)
        banks = {n: write_bank(tmp / "banks", n) for n in sizes}
        out = tmp / "out"
        r = args.repeat

        typer_row = measure("python -c 'import typer'", [py, "-c", "import typer"], r, tmp)
        version_row = measure("kzquiz --version", [*kz, "--version"], r, tmp)
        rows += [typer_row, version_row]
        rows.append(
            measure(
                "kzquiz check (shipped bank)", [*kz, "check", str(ROOT / "questions.yaml")], r, ROOT
            )
        )
        shipped_build = measure(
            "kzquiz build (shipped bank, every format)",
            [*kz, "build", str(ROOT / "questions.yaml"), "-o", str(out / "shipped")],
            r,
            ROOT,
        )
        rows.append(shipped_build)
        growth: dict[str, dict[int, Row]] = {"check": {}, "anki": {}, "worksheet": {}}
        for n in sizes:
            bank = str(banks[n])
            growth["check"][n] = measure(f"kzquiz check ({n:,})", [*kz, "check", bank], r, tmp)
            growth["anki"][n] = measure(
                f"kzquiz anki ({n:,})", [*kz, "anki", bank, "-o", str(out / f"anki-{n}")], r, tmp
            )
            growth["worksheet"][n] = measure(
                f"kzquiz worksheet ({n:,})",
                [*kz, "worksheet", bank, "-o", str(out / f"ws-{n}"), "--seed", "1"],
                r,
                tmp,
            )
            rows += [growth[c][n] for c in growth]
        floor = measure(
            f"floor: yaml-rs + bare genanki ({big:,})",
            [py, str(HERE / "floor_anki.py"), str(banks[big]), str(out / "floor.apkg")],
            r,
            tmp,
        )
        rows.append(floor)
        build_big = measure(
            f"kzquiz build ({big:,}, every format)",
            [*kz, "build", str(banks[big]), "-o", str(out / "build-big")],
            max(1, r // 2),
            tmp,
        )
        rows.append(build_big)
        steps = build_steps(banks[big], out / "steps")
        profile = "" if args.no_profile else profile_build(banks[big], out / "profile")

    ratios = {
        "version / import typer": version_row.seconds / typer_row.seconds,
        f"anki {big:,} / floor": growth["anki"][big].seconds / floor.seconds,
        **{
            f"{c} {sizes[2]:,} / {big:,}": growth[c][sizes[2]].seconds / growth[c][big].seconds
            for c in growth
            if len(sizes) > 2
        },
    }
    # Issue 9's budgets, for the full run (the quick run's banks are too small to judge).
    budgets: list[dict[str, Any]] = []
    if len(sizes) > 2:
        limits: list[tuple[str, float, float, str]] = [
            ("kzquiz --version / import typer", ratios["version / import typer"], 1.3, "x"),
            ("kzquiz build, shipped bank", shipped_build.seconds, 0.8, "s"),
            (f"kzquiz check, {big:,}", growth["check"][big].seconds, 0.8, "s"),
            (f"kzquiz anki, {big:,}", growth["anki"][big].seconds, 1.2, "s"),
            (f"kzquiz anki {big:,} / floor", ratios[f"anki {big:,} / floor"], 1.5, "x"),
            *(
                (f"{c} {sizes[2]:,} / {big:,}", ratios[f"{c} {sizes[2]:,} / {big:,}"], 2.2, "x")
                for c in growth
            ),
            (f"peak RSS, build of {big:,}", build_big.max_rss_mb, 300.0, "MB"),
        ]
        budgets = [
            {"budget": name, "measured": round(value, 3), "limit": limit, "unit": unit}
            for name, value, limit, unit in limits
        ]
    width = max(len(row.name) for row in rows)
    print(f"{'command':<{width}}  {'median s':>9}  {'max RSS MB':>10}")
    for row in rows:
        print(f"{row.name:<{width}}  {row.seconds:>9.3f}  {row.max_rss_mb:>10.1f}")
    print()
    for name, value in ratios.items():
        print(f"{name:<{width}}  {value:>9.2f}x")
    if budgets:
        print(f"\n{'budget (issue 9)':<{width}}  {'measured':>9}  {'limit':>10}")
        for b in budgets:
            verdict = "ok" if b["measured"] <= b["limit"] else "OVER"
            print(
                f"{b['budget']:<{width}}  {b['measured']:>8.2f}{b['unit']:<2}"
                f"{b['limit']:>7.1f}{b['unit']:<2}  {verdict}"
            )
    print(
        f"\n{f'build of {big:,}, step by step (in-process)':<{width}}  {'s':>9}  {'peak RSS MB':>11}"
    )
    for step in steps:
        print(f"{step['step']:<{width}}  {step['seconds']:>9.3f}  {step['peak_rss_mb']:>11.1f}")
    if profile:
        print(
            f"\nprofile of an in-process build of the {big:,}-question bank (by own time):\n{profile}"
        )
    if args.json:
        machine = {
            "python": sys.version,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "repeat": args.repeat,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "rows": [asdict(row) for row in rows],
                    "ratios": {k: round(v, 3) for k, v in ratios.items()},
                    "budgets": budgets,
                    "build_steps": steps,
                    "profile": profile.splitlines(),
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
