"""kzquiz benchmarks: the budgets of issue 21 on the synthetic bank and two adversarial ones,
the raw floor, the shipped bank, peers from PyPI side by side, and a profile of the 10k build.

Usage:
    python benchmarks/run.py                 # the full run, a table on stdout
    python benchmarks/run.py --repeat 5      # more runs per row (default 3)
    python benchmarks/run.py --json out.json # also write the numbers as JSON
    python benchmarks/run.py --quick         # 1k and 2k banks only, for a smoke run
    python benchmarks/run.py --kinds synthetic --no-peers --no-profile   # a shorter run
    python benchmarks/run.py --budgets       # only the four absolute budgets, no growth

Every row runs the `kzquiz` console script in a fresh process, as a user would, so
interpreter start-up and imports count; the code it runs is this checkout's (src/ comes
first on the child's path). Times are wall-clock medians after one warm-up run (quick
commands run more often, and the two sides of a ratio take turns); memory is the child's
peak resident set size (max RSS). Run it on an idle machine: the numbers are only
comparable within one run (the JSON records every run and the load average).

What the rows mean:
- Children run without PYTHONDONTWRITEBYTECODE: an installed package runs from bytecode
  compiled at install time, so a shell that forbids writing bytecode would time the compiler.
- Growth: every command (check, anki, worksheet, export qti, export gift, build) on 10,000,
  20,000 and 50,000 questions of each kind of bank (genbank.py: synthetic; notes, with an
  export note on every question; warnings, with a warning on every question), the three
  sizes of one command taking turns, repeat // 2 times (one timed run without warm-up when
  that is 1, so `anki` and `build` are first builds at every size). A bigger size is stopped
  once it has run 1.1 x its limit times the smaller one: past that its budget is over, and a
  superlinear path would otherwise stall the run. A stopped row's time is a lower bound.
- The floor (floor_raw.py) parses the same YAML with yaml-rs and writes the deck with
  sqlite3 and zipfile, without validation, escaping, templates or state file: what any tool
  that makes this deck has to spend. Once per run its deck and kzquiz's are imported with
  the anki library, which must find the same notes and cards.
- Peers (peers.py) install from PyPI into benchmarks/out/peers/venv; one that cannot be
  installed or run is reported and skipped.
- A ratio is comparable across machines, an absolute time only on a machine like the one
  the budget was set on.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SRC = ROOT / "src"
sys.path[:0] = [str(SRC), str(HERE)]  # this checkout's kzquiz, and genbank's KINDS

from genbank import KINDS  # noqa: E402


@dataclass
class Row:
    """One measured command."""

    name: str
    seconds: float
    runs: list[float] = field(default_factory=list)
    max_rss_mb: float = 0.0
    note: str = ""
    killed: bool = False  # stopped at its time limit: `seconds` is a lower bound


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Installed packages run from compiled bytecode; a user's shell does not forbid it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("SOURCE_DATE_EPOCH", None)
    # The code measured is this checkout's, whichever checkout the `kzquiz` script was
    # installed from.
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [env.get("PYTHONPATH")])])
    # Scratch files go into the benchmark's folder (genanki's write_to_file leaves its
    # SQLite file behind in the temp folder; this way it is deleted with the rest).
    env["TMPDIR"] = str(tmp)
    return env


def _kzquiz() -> list[str]:
    script = Path(sys.executable).parent / "kzquiz"
    found = str(script) if script.exists() else shutil.which("kzquiz")
    return [found] if found else [sys.executable, "-m", "kzquiz"]


def write_banks(folder: Path, sizes: tuple[int, ...], kinds: tuple[str, ...]) -> dict[str, Path]:
    """The generated banks, keyed "<kind>-<n>", written by a child process.

    On Linux a child's max RSS starts at its parent's (the high-water mark survives fork and
    exec), so a parent grown by generating 50,000 questions would inflate the memory of
    every small command measured after it.
    """
    code = (
        "import sys; from pathlib import Path; from genbank import write_bank;"
        "[print(write_bank(Path(sys.argv[1]), int(a.split(':')[1]), kind=a.split(':')[0]))"
        " for a in sys.argv[2:]]"
    )
    keys = [f"{k}-{n}" for k in kinds for n in sizes]
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder), *(f"{k}:{n}" for k in kinds for n in sizes)],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(zip(keys, map(Path, done.stdout.splitlines()), strict=True))


def _run_once(
    name: str, argv: list[str], cwd: Path, scratch: Path, timeout: float | None = None
) -> tuple[float, int, bool]:
    """One run: wall seconds, the child's max RSS in KiB, and whether it was killed at
    `timeout` seconds."""
    # stderr goes to a file, not a pipe: a pipe nobody reads while the child runs would
    # stall a child that writes more than the pipe holds (many warnings, say).
    with open(scratch / "stderr", "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=_env(scratch), stdout=subprocess.DEVNULL, stderr=err
        )
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        killed = timer is not None and not timer.is_alive() and status != 0
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 and not killed:
            err.seek(0)
            raise SystemExit(f"{name}: exit {proc.returncode}\n{err.read().decode()}")
    return elapsed, usage.ru_maxrss, killed


# A job: (name, argv, cwd), optionally with a limit (index of an earlier job, factor): the
# job is stopped once it has run `factor` times that job's median so far (plus a tenth),
# because past that its budget is over whatever it would have taken.
Job = tuple[str, list[str], Path]


def measure_together(
    jobs: list[Job],
    repeat: int,
    min_seconds: float = 3.0,
    warmup: bool = True,
    limits: dict[int, tuple[int, float]] | None = None,
) -> list[Row]:
    """Run the commands in turn, round after round, after one warm-up round; per command
    the median wall time and the peak RSS.

    Taking turns means a change in the machine's load hits every command of a ratio alike.
    Quick commands get more rounds (up to 4 x repeat, until a command has run about
    min_seconds in all): the median of five 0.1 s runs moves with every hiccup.
    """
    limits = limits or {}
    scratch = Path(tempfile.mkdtemp(prefix="kzquiz-bench-run-"))
    times: list[list[float]] = [[] for _ in jobs]
    peaks = [0] * len(jobs)
    killed = [False] * len(jobs)

    warm: list[list[float]] = [[] for _ in jobs]

    def one_round(record: bool) -> None:
        for i, (name, argv, cwd) in enumerate(jobs):
            if killed[i]:
                continue
            timeout = None
            if i in limits:
                base, factor = limits[i]
                seen = times[base] or warm[base]
                timeout = 1.1 * factor * statistics.median(seen) if seen else None
            elapsed, rss, was_killed = _run_once(name, argv, cwd, scratch, timeout)
            killed[i] = was_killed
            peaks[i] = max(peaks[i], rss)
            (times if record or was_killed else warm)[i].append(elapsed)

    try:
        rounds = repeat
        if warmup:
            one_round(False)
            quickest = min((w[0] for w in warm if w), default=1.0)
            rounds = min(4 * repeat, max(repeat, math.ceil(min_seconds / max(quickest, 1e-3))))
        for _ in range(rounds):
            if all(killed):
                break
            one_round(True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = []
    for (name, _, _), t, peak, was_killed in zip(jobs, times, peaks, killed, strict=True):
        note = f"stopped at {max(t):.1f} s, past its budget" if was_killed else ""
        seconds = max(t) if was_killed else statistics.median(t)
        rows.append(
            Row(name, seconds, [round(x, 4) for x in t], round(peak / 1024, 1), note, was_killed)
        )
    return rows


def measure(name: str, argv: list[str], repeat: int, cwd: Path) -> Row:
    """Run argv `repeat` times (or more, if it is quick) after one warm-up."""
    return measure_together([(name, argv, cwd)], repeat)[0]


def build_steps(bank: Path, out: Path) -> list[dict[str, Any]]:
    """An in-process build, step by step: wall time and the process's peak RSS after each.

    Run in a fresh interpreter, so the peak is the build's own; it tells which step (and
    so which renderer) the time and the memory of a big build go to.
    """
    code = f"""
import json, resource, sys, time
from pathlib import Path
from kzquiz import pipeline
from kzquiz.formats import build_formats
from kzquiz.loader import load_bank
from kzquiz.output import write_files
from kzquiz.render import Outputs
def peak():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
steps = []
out = Path({str(out)!r})
start = time.perf_counter()
loaded = load_bank(Path({str(bank)!r}))
steps.append(("load and validate", time.perf_counter() - start, peak()))
outputs = Outputs()
for fmt in build_formats():
    start = time.perf_counter()
    outputs.update(pipeline.render(fmt, loaded, loaded.bank.questions, seed=fmt.build_seed,
                                   folder=out, whole_bank=True))
    steps.append((fmt.name, time.perf_counter() - start, peak()))
start = time.perf_counter()
write_files(out, outputs.files)
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
    from kzquiz import pipeline

    profiler = cProfile.Profile()
    profiler.enable()
    pipeline.build(bank, out)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return short_paths(stream.getvalue())


def short_paths(text: str) -> str:
    """File names relative to the project or the Python library: no machine's paths in results."""
    import sysconfig

    prefixes = sorted(
        {str(ROOT) + os.sep, *(p + os.sep for p in sysconfig.get_paths().values() if p)},
        key=len,
        reverse=True,
    )
    for prefix in prefixes:
        text = text.replace(prefix, "")
    return text


GROWTH_COMMANDS = ("check", "anki", "worksheet", "export qti", "export gift", "build")


def _argv(kz: list[str], command: str, bank: Path, out: Path) -> list[str]:
    """The command line of one growth command on one bank, writing under `out`."""
    if command == "check":
        return [*kz, "check", str(bank)]
    if command.startswith("export "):
        name = command.split()[1]
        return [*kz, "export", name, str(bank), "-o", str(out / f"{bank.stem}.{name}")]
    extra = ["--seed", "1"] if command == "worksheet" else []
    return [*kz, command, str(bank), "-o", str(out / f"{command}-{bank.stem}"), *extra]


def measure_growth(
    kz: list[str],
    banks: dict[str, Path],
    kinds: tuple[str, ...],
    sizes: tuple[int, ...],
    limits: tuple[float, ...],
    out: Path,
    tmp: Path,
    repeat: int,
) -> dict[str, dict[str, dict[int, Row]]]:
    """Every command on every kind of bank at every size, the sizes of one command taking
    turns; a bigger size is stopped once it is past its budget against the smallest."""
    growth: dict[str, dict[str, dict[int, Row]]] = {}
    for kind in kinds:
        growth[kind] = {}
        for command in GROWTH_COMMANDS:
            jobs: list[Job] = [
                (f"kzquiz {command} ({kind} {n:,})",
                 _argv(kz, command, banks[f"{kind}-{n}"], out), tmp)
                for n in sizes
            ]  # fmt: skip
            stop = {i: (0, limit) for i, limit in enumerate(limits, start=1)}
            # A single timed run is a first run everywhere (no warm-up): the ratio compares
            # like with like, and a 50,000-question warm-up would double the run.
            rows = measure_together(jobs, repeat, warmup=repeat > 1, limits=stop)
            growth[kind][command] = dict(zip(sizes, rows, strict=True))
            for row in rows:
                print(f"  {row.name}: {row.seconds:.3f} s{' (stopped)' if row.killed else ''}",
                      file=sys.stderr, flush=True)  # fmt: skip
    return growth


def floor_check(bank: Path, kz_deck_dir: Path, out: Path) -> dict[str, Any]:
    """Import the raw floor's deck and kzquiz's with the anki library: the same notes and cards?"""
    decks = sorted(kz_deck_dir.glob("*.apkg"))
    argv = [sys.executable, str(HERE / "floor_raw.py"), str(bank), str(out), "--check"]
    done = subprocess.run(
        [*argv, *map(str, decks[:1])], capture_output=True, text=True, env=_env(out.parent)
    )
    return {"ok": done.returncode == 0 and bool(decks), "output": done.stdout.strip()}


def measure_peers(
    kz: list[str], bank: Path, out: Path, tmp: Path, repeat: int
) -> list[dict[str, Any]]:
    """text2qti and anki-yaml-tool, each against the kzquiz command that makes the same thing."""
    import peers

    results: list[dict[str, Any]] = []
    folder = out / "peers"
    folder.mkdir(parents=True, exist_ok=True)
    for package in ("text2qti", "anki-yaml-tool"):
        script, why = peers.ensure(package)
        if script is None:
            results.append({"peer": package, "skipped": why})
            print(f"peer {package} skipped: {why}", file=sys.stderr)
            continue
        src = folder / ("quiz.txt" if package == "text2qti" else "deck.yaml")
        done = subprocess.run(
            [sys.executable, str(HERE / "peers.py"), package, str(bank), str(src)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        count = int(done.stdout)
        if package == "text2qti":
            types = [a for t in peers.TEXT2QTI_TYPES for a in ("--type", t)]
            ours = [*kz, "export", "qti", str(bank), *types, "-o", str(folder / "kz-qti.zip")]
            theirs = [str(script), str(src)]
            what = f"QTI of {count:,} questions (single/multiple/truefalse/short/numeric)"
        else:
            ours = [*kz, "anki", str(bank), "-o", str(folder / "kz-anki")]
            theirs = [str(script), "build", "--file", str(src), "--output",
                      str(folder / "peer.apkg")]  # fmt: skip
            what = f"Anki deck of {count:,} questions"
        try:
            kz_row, peer_row = measure_together(
                [(f"kzquiz ({what})", ours, folder), (f"{package} ({what})", theirs, folder)],
                repeat,
                warmup=repeat > 1,
                limits={1: (0, 100.0)},
            )
        except SystemExit as exc:
            results.append({"peer": package, "skipped": f"it failed to run: {exc}"})
            print(f"peer {package} skipped: it failed to run", file=sys.stderr)
            continue
        results.append(
            {"peer": package, "what": what, "kzquiz": asdict(kz_row), "peer_row": asdict(peer_row),
             "ratio": kz_row.seconds / peer_row.seconds, "peer_stopped": peer_row.killed}
        )  # fmt: skip
    return results


def main() -> None:
    """Run every benchmark and print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quick", action="store_true", help="small banks only")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help="bank kinds to grow, comma-separated"
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--budgets",
        action="store_true",
        help="only the absolute budgets: the shipped bank, anki against the floor, the 10,000"
        " build (rebuilt after a warm-up, `repeat` times); no growth, peers, steps or profile",
    )
    args = parser.parse_args()
    if args.budgets:
        args.quick, args.kinds, args.no_peers, args.no_profile = False, "synthetic", True, True
    from kzquiz import formats

    exports = set(formats.export_names())
    missing = {c.split()[1] for c in GROWTH_COMMANDS if c.startswith("export ")} - exports
    if missing:
        raise SystemExit(f"the format registry has no export {', '.join(sorted(missing))}")
    kinds = tuple(k for k in args.kinds.split(",") if k)
    if "synthetic" not in kinds or set(kinds) - set(KINDS):
        raise SystemExit(f"--kinds: synthetic and any of {', '.join(KINDS)}")
    sizes = (1000, 2000) if args.quick else (10_000,) if args.budgets else (10_000, 20_000, 50_000)
    growth_limits = (2.2,) if args.quick else (2.2, 5.5)
    base = sizes[0]
    kz = _kzquiz()
    py = sys.executable
    r = args.repeat
    rows: list[Row] = []
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kzquiz-bench-") as tmp_name:
        tmp = Path(tmp_name)
        banks = write_banks(tmp / "banks", sizes, kinds)
        out = tmp / "out"
        typer_row, version_row = measure_together(
            [
                ("python -c 'import typer'", [py, "-c", "import typer"], tmp),
                ("kzquiz --version", [*kz, "--version"], tmp),
            ],
            r,
        )
        shipped_check = measure(
            "kzquiz check (shipped bank)", [*kz, "check", str(ROOT / "questions.yaml")], r, ROOT
        )
        shipped_build = measure(
            "kzquiz build (shipped bank, every format)",
            [*kz, "build", str(ROOT / "questions.yaml"), "-o", str(out / "shipped")],
            r,
            ROOT,
        )
        rows += [typer_row, version_row, shipped_check, shipped_build]
        synthetic = banks[f"synthetic-{base}"]
        kz_anki, floor = measure_together(
            [
                (f"kzquiz anki (synthetic {base:,})",
                 [*kz, "anki", str(synthetic), "-o", str(out / "anki-floor")], tmp),
                (f"floor: yaml-rs + sqlite3 + zipfile ({base:,})",
                 [py, str(HERE / "floor_raw.py"), str(synthetic), str(out / "floor.apkg")], tmp),
            ],
            r,
        )  # fmt: skip
        rows += [kz_anki, floor]
        check = floor_check(synthetic, out / "anki-floor", out / "floor-check.apkg")
        print(f"floor --check: {check['output']}", file=sys.stderr, flush=True)
        growth: dict[str, dict[str, dict[int, Row]]] = {}
        if args.budgets:
            (build_row,) = measure_together(
                [(f"kzquiz build (synthetic {base:,})",
                  _argv(kz, "build", synthetic, out / "growth"), tmp)],
                r,
            )  # fmt: skip
            growth["synthetic"] = {"build": {base: build_row}}
            rows.append(build_row)
        else:
            growth = measure_growth(
                kz, banks, kinds, sizes, growth_limits, out / "growth", tmp, max(1, r // 2)
            )
            for kind in kinds:
                for command in GROWTH_COMMANDS:
                    rows += growth[kind][command].values()
        peer_results = [] if args.no_peers else measure_peers(kz, synthetic, out, tmp, 1)
        steps = [] if args.budgets else build_steps(synthetic, out / "steps")
        profile = "" if args.no_profile else profile_build(synthetic, out / "profile")
    elapsed_total = time.perf_counter() - started

    budgets: list[dict[str, Any]] = []

    def budget(name: str, value: float, limit: float, unit: str, stopped: bool = False) -> None:
        budgets.append(
            {"budget": name, "measured": round(value, 3), "limit": limit, "unit": unit,
             "ok": value <= limit and not stopped, "stopped": stopped}
        )  # fmt: skip

    build_base = growth["synthetic"]["build"][base]
    budget(f"kzquiz anki {base:,} / raw floor", kz_anki.seconds / floor.seconds, 2.2, "x")
    budget(f"kzquiz build {base:,} (synthetic)", build_base.seconds, 4.0, "s", build_base.killed)
    budget("kzquiz check, shipped bank", shipped_check.seconds, 0.4, "s")
    budget("kzquiz build, shipped bank", shipped_build.seconds, 0.8, "s")
    for kind in kinds if not args.budgets else ():
        for command in GROWTH_COMMANDS:
            by_size = growth[kind][command]
            for n, limit in zip(sizes[1:], growth_limits, strict=True):
                row = by_size[n]
                budget(
                    f"{command} {n:,} / {base:,} ({kind})",
                    row.seconds / by_size[base].seconds,
                    limit,
                    "x",
                    row.killed,
                )
    if not check["ok"]:
        budgets.append(
            {"budget": "floor deck imports as kzquiz's (anki library)", "measured": 0,
             "limit": 1, "unit": "", "ok": False, "stopped": False}
        )  # fmt: skip

    width = max(len(row.name) for row in rows)
    print(f"{'command':<{width}}  {'median s':>9}  {'min s':>7}  {'max RSS MB':>10}")
    for row in rows:
        stopped = "  (stopped: past its budget)" if row.killed else ""
        print(
            f"{row.name:<{width}}  {row.seconds:>9.3f}  {min(row.runs):>7.3f}"
            f"  {row.max_rss_mb:>10.1f}{stopped}"
        )
    print(f"\nraw floor, imported with the anki library: {check['output'] or 'no output'}")
    print(f"\n{'budget (issue 21)':<{width}}  {'measured':>10}  {'limit':>8}")
    for b in budgets:
        verdict = "ok" if b["ok"] else "OVER"
        more = ">" if b["stopped"] else " "
        print(
            f"{b['budget']:<{width}}  {more}{b['measured']:>8.2f}{b['unit']:<1}"
            f"  {b['limit']:>6.1f}{b['unit']:<1}  {verdict}"
        )
    if peer_results or not args.no_peers:
        print(f"\n{'peers (kzquiz / peer, same machine, taking turns)':<{width}}")
        for p in peer_results:
            if "skipped" in p:
                print(f"{p['peer']}: skipped ({p['skipped']})")
                continue
            more = "<" if p["peer_stopped"] else ""
            print(
                f"{p['peer']}: {p['what']}: kzquiz {p['kzquiz']['seconds']:.3f} s, "
                f"{p['peer']} {p['peer_row']['seconds']:.3f} s, ratio {more}{p['ratio']:.2f}x"
            )
    print(
        f"\n{'version / import typer':<{width}}  {version_row.seconds / typer_row.seconds:>9.2f}x"
    )
    if steps:
        print(
            f"\n{f'build of {base:,}, step by step (in-process)':<{width}}  {'s':>9}"
            f"  {'peak RSS MB':>11}"
        )
    for step in steps:
        print(f"{step['step']:<{width}}  {step['seconds']:>9.3f}  {step['peak_rss_mb']:>11.1f}")
    if profile:
        print(
            f"\nprofile of an in-process build of the {base:,}-question bank (by own time):\n{profile}"
        )
    print(f"\nthe whole run took {elapsed_total:.0f} s")
    if args.json:
        machine = {
            "python": sys.version,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "repeat": args.repeat,
            "growth_repeat": max(1, r // 2),
            "kinds": list(kinds),
            "sizes": list(sizes),
            "seconds": round(elapsed_total, 1),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "rows": [asdict(row) for row in rows],
                    "budgets": budgets,
                    "floor_check": check,
                    "peers": peer_results,
                    "version_over_import_typer": round(version_row.seconds / typer_row.seconds, 3),
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
