"""Hardening, round two: each class of failure the second attack found, in several variants."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kzquiz.cli import app
from kzquiz.errors import OutputError, UsageError
from kzquiz.loader import load_bank
from kzquiz.output import JOURNAL_NAME, LOCK_NAME, settle, write_file, write_files
from kzquiz.read import JSONTooDeep, UnreadableFile, parse_json, read_regular_file

ROOT = Path(__file__).resolve().parent.parent
VALID = (ROOT / "tests" / "banks" / "valid.yaml").read_text(encoding="utf-8")
ARTICLE = (ROOT / "sources" / "article.txt").read_text(encoding="utf-8")
KEOSAYAN_ANSWERS = 'answers: ["Tigran Keosayan", "Keosayan"]'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    return tmp_path


def check(folder: Path, text: str | bytes, *args: str) -> Any:
    """`kzquiz check` on this bank text, run in `folder`."""
    path = folder / "bank.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    old = Path.cwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(app, ["check", "bank.yaml", *args])
    finally:
        os.chdir(old)


def problems(result: Any) -> list[str]:
    """The problem lines of a failed check (exit 1, no traceback)."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return [line for line in result.stderr.splitlines() if not line.startswith("warning:")]


# --- 1. NUL and other encodings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        # a NUL line before a question: the parser used to drop the rest of the bank
        (lambda t: t.replace("  - id: keosayan", "\x00\n  - id: keosayan"), "54:1"),
        (lambda t: t.replace('"Mini bank"', '"Mini\x00bank"'), "3:15"),  # in a quoted value
        (lambda t: t.replace("topics:\n", "# a \x00 comment\ntopics:\n"), "9:5"),  # a comment
        (lambda t: t.replace("  - id: timeline", "  - id\x00: timeline"), "85:7"),  # in a key
        (lambda t: t + "\x00", "94:1"),  # the very last byte
    ],
)
def test_a_nul_byte_is_refused_where_it_stands(folder: Path, edit: Any, where: str) -> None:
    assert problems(check(folder, edit(VALID))) == [
        f"bank.yaml:{where}: the bank contains a NUL character (U+0000); remove it"
    ]


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16-le", "UTF-16 (little-endian) text without a byte-order mark"),
        ("utf-16-be", "UTF-16 (big-endian) text without a byte-order mark"),
        ("utf-32-le", "UTF-32 (little-endian) text without a byte-order mark"),
        ("utf-32-be", "UTF-32 (big-endian) text without a byte-order mark"),
        ("utf-16", "UTF-16 (little-endian) text"),
        ("utf-32", "UTF-32 (little-endian) text"),
    ],
)
def test_utf16_and_utf32_are_named(folder: Path, encoding: str, name: str) -> None:
    assert problems(check(folder, VALID.encode(encoding))) == [
        f"bank.yaml: the bank is {name}; save it as UTF-8"
    ]


def test_a_nul_in_the_article_is_refused_with_its_place(folder: Path) -> None:
    (folder / "article.txt").write_text(ARTICLE.replace("Kremlin", "Krem\x00lin", 1), "utf-8")
    (line,) = problems(check(folder, VALID))
    assert line.startswith("bank.yaml:8:11: bank.source.text: the source text contains a NUL")
    assert line.endswith("(article.txt:3:186)")


# --- 2. numbers where ids, topics and quotes are expected -------------------------------------


def test_cross_question_checks_see_numbers_as_the_models_do(folder: Path) -> None:
    text = (
        VALID.replace("id: keosayan", "id: 5")
        .replace("id: timeline", "id: 5")
        .replace("    topic: economy\n", "    topic: 2\n", 1)
        .replace('evidence: "Iranian President Ebrahim Raisi"', "evidence: 123456789")
    )
    assert problems(check(folder, text)) == [
        "bank.yaml:39:12: questions[2] (id: sanctions-break): unknown topic '2'; add it under `topics:` or use one of: sovereignty, economy",
        "bank.yaml:84:15: questions[6] (id: who-is-who): evidence quote not found in the source text; copy it verbatim from one paragraph",
        "bank.yaml:85:9: questions[7] (id: 5): duplicate id '5' (first used by questions[4]); ids must be unique",
    ]


def test_a_number_as_topic_does_not_crash_the_build(folder: Path) -> None:
    (folder / "bank.yaml").write_text(
        VALID.replace("    topic: economy\n", "    topic: 2\n", 1), encoding="utf-8"
    )
    old = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(app, ["build", "bank.yaml", "-o", "out"])
    finally:
        os.chdir(old)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "unknown topic '2'" in result.stderr
    assert not (folder / "out").exists() or not list((folder / "out").iterdir())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", "cannot read the source text: no such file (5)"),
        ("1.50", "cannot read the source text: no such file (1.50)"),
        ('"a\\0b"', "source text path contains a NUL character; remove it"),
    ],
)
def test_source_text_paths_that_are_numbers_or_hold_nul(
    folder: Path, value: str, message: str
) -> None:
    text = VALID.replace("text: article.txt", f"text: {value}")
    assert problems(check(folder, text)) == [f"bank.yaml:8:11: bank.source.text: {message}"]


# --- 3. non-finite and boolean numbers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (".nan", "answer must be a finite number, not nan"),
        (".inf", "answer must be a finite number, not inf"),
        ("-.inf", "answer must be a finite number, not -inf"),
        ("1e400", "answer must be a finite number, not inf"),
        ('"nan"', "answer must be a number, not text"),
        ('"inf"', "answer must be a number, not text"),
        ("true", "answer must be a number, not true/false"),
        ("false", "answer must be a number, not true/false"),
    ],
)
def test_numeric_answers_must_be_finite_numbers(folder: Path, written: str, message: str) -> None:
    text = VALID.replace("answer: 22", f"answer: {written}")
    assert problems(check(folder, text)) == [
        f"bank.yaml:69:13: questions[5] (id: china-investment): {message}"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "tolerance: 0.5",
            "tolerance: .nan",
            "70:16: questions[5] (id: china-investment): tolerance must be a finite number, not nan",
        ),
        (
            "tolerance: 0.5",
            "tolerance: true",
            "70:16: questions[5] (id: china-investment): tolerance must be a number, not true/false",
        ),
        (
            "difficulty: 2\n    tags: [china",
            "difficulty: true\n    tags: [china",
            "66:17: questions[5] (id: china-investment): difficulty must be a whole number, not true/false",
        ),
        (
            "answer: false",
            "answer: 0",
            "43:13: questions[2] (id: sanctions-break): answer must be true or false, not a number",
        ),
        (
            "correct: true}",
            "correct: 1}",
            "20:73: questions[0] (id: un-two-principles): choices[0].correct must be true or false, not a number",
        ),
    ],
)
def test_other_numbers_and_booleans_are_strict(
    folder: Path, old: str, new: str, message: str
) -> None:
    assert old in VALID
    assert problems(check(folder, VALID.replace(old, new, 1))) == [f"bank.yaml:{message}"]


# --- 4. numbers written where text is expected keep their text ------------------------------


def test_numbers_in_text_fields_keep_the_text_as_written(folder: Path) -> None:
    text = (
        VALID.replace(KEOSAYAN_ANSWERS, "answers: [3.10, 007, 1e3, 0x1F, +5, .5, 1_000]")
        .replace('unit: "billion USD"', "unit: 2060")
        .replace('"Option" if False else "Sanctions and trade"', "")
        .replace('economy: "Sanctions and trade"', "economy: 1.0")
        .replace('{text: "Non-interference and collective security"}', "{text: 1.50}")
    )
    assert "unit: 2060" in text and "{text: 1.50}" in text
    assert check(folder, text).exit_code == 0
    loaded = load_bank(folder / "bank.yaml")
    qs = {q.id: q for q in loaded.bank.questions}
    assert qs["keosayan"].answers == ["3.10", "007", "1e3", "0x1F", "+5", ".5", "1_000"]  # type: ignore[union-attr]
    assert qs["china-investment"].unit == "2060"  # type: ignore[union-attr]
    assert loaded.bank.topics["economy"] == "1.0"
    assert qs["un-two-principles"].choices[1].text == "1.50"  # type: ignore[union-attr]


def test_a_number_as_a_topic_key_and_in_flow_and_block_lists(folder: Path) -> None:
    text = (
        VALID.replace("  economy: ", "  2022: ")
        .replace("topic: economy", "topic: 2022")
        .replace(KEOSAYAN_ANSWERS, "answers:\n      - 0.50\n      - Keosayan")
    )
    assert check(folder, text).exit_code == 0, check(folder, text).output
    loaded = load_bank(folder / "bank.yaml")
    assert list(loaded.bank.topics) == ["sovereignty", "2022"]
    assert loaded.bank.questions[4].answers == ["0.50", "Keosayan"]  # type: ignore[union-attr]


# --- 5. tracebacks become messages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "abc",
            "must be a whole number of seconds since 1970-01-01 UTC (like 1700000000), not 'abc'",
        ),
        ("-1", "not '-1'"),
        ("1e9", "not '1e9'"),
        ("\u00b2", "not '\u00b2'"),
        ("\u0663", "not '\u0663'"),
        ("4354819200", "lies after 2107-12-31"),
        ("99999999999999", "lies after 2107-12-31"),
    ],
)
def test_a_malformed_source_date_epoch_is_a_clear_error(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    from kzquiz.render import archive_time, build_time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    for clock in (build_time, archive_time):
        with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
            clock()
    result = CliRunner().invoke(app, ["anki", str(mini_bank), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("SOURCE_DATE_EPOCH")


def test_source_date_epoch_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from kzquiz.render import MAX_EPOCH, ZIP_EPOCH, archive_time, build_time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", f" {MAX_EPOCH} ")
    assert build_time() == archive_time() == MAX_EPOCH
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert (build_time(), archive_time()) == (0, ZIP_EPOCH)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")
    assert archive_time() == ZIP_EPOCH and abs(build_time() - time.time()) < 5


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deep_json_is_a_value_error_not_a_recursion_error(depth: int) -> None:
    with pytest.raises(JSONTooDeep):
        parse_json("[" * depth + "]" * depth)
    with pytest.raises(ValueError):
        parse_json(b'{"a": ' * depth)
    assert parse_json(b'{"a": [1, 2]}') == {"a": [1, 2]}


def test_an_output_name_that_is_a_folder_or_too_long(tmp_path: Path) -> None:
    (tmp_path / "deck.apkg").mkdir()
    (tmp_path / "old.csv").write_bytes(b"old")
    with pytest.raises(OutputError, match=r"deck\.apkg: is a folder, not a regular file"):
        write_files(tmp_path, {"old.csv": b"new", "deck.apkg": b"x"})
    with pytest.raises(OutputError, match=r"the file name is too long \(300 characters\)"):
        write_file(tmp_path / ("x" * 300), b"x")
    with pytest.raises(OutputError, match="the file name is too long"):
        write_file(tmp_path / "missing" / ("\u00e9" * 130), b"x")  # 260 bytes in UTF-8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg", "old.csv"]
    assert (tmp_path / "old.csv").read_bytes() == b"old"


def _immutable(path: Path) -> bool:
    chattr = shutil.which("chattr")
    if chattr is None:
        return False
    return subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode == 0


def test_an_immutable_output_changes_nothing(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_bytes(b"old " + name.encode())
    if not _immutable(tmp_path / "b.txt"):
        pytest.skip("chattr +i needs root and a file system that supports it")
    try:
        with pytest.raises(OutputError, match=r"b\.txt: cannot be replaced"):
            write_files(tmp_path, {"a.txt": b"new", "b.txt": b"new", "c.txt": b"new"})
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
            "a.txt": b"old a.txt",
            "b.txt": b"old b.txt",
            "c.txt": b"old c.txt",
        }
    finally:
        subprocess.run(["chattr", "-i", str(tmp_path / "b.txt")], check=True)


def test_a_rename_failing_half_way_puts_every_old_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_bytes(b"old a")
    (tmp_path / "c.txt").write_bytes(b"old c")
    real = os.replace
    calls = {"n": 0}

    def failing(src: Any, dst: Any) -> None:
        if Path(dst).name in ("a.txt", "b.txt", "c.txt"):
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr("kzquiz.output.os.replace", failing)
    with pytest.raises(OutputError, match=r"c\.txt: cannot be replaced \(Input/output error\)"):
        write_files(tmp_path, {"a.txt": b"new a", "b.txt": b"new b", "c.txt": b"new c"})
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
        "a.txt": b"old a",
        "c.txt": b"old c",
    }


# --- 6. FIFOs, devices and caps -----------------------------------------------------------------


def _run_check(folder: Path, bank: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kzquiz", "check", bank],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_fifo_as_bank_or_article_is_refused_at_once(folder: Path) -> None:
    os.mkfifo(folder / "bank.yaml")
    os.mkfifo(folder / "fifo.txt")
    (folder / "other.yaml").write_text(VALID.replace("text: article.txt", "text: fifo.txt"))
    out = _run_check(folder, "bank.yaml")
    assert (out.returncode, out.stderr.strip()) == (
        1,
        "bank.yaml: cannot read the bank: it is a pipe (FIFO), not a regular file",
    )
    out = _run_check(folder, "other.yaml")
    assert (out.returncode, out.stderr.strip()) == (
        1,
        "other.yaml:8:11: bank.source.text: cannot read the source text: it is a pipe (FIFO), not a regular file (fifo.txt)",
    )


@pytest.mark.parametrize(
    ("device", "reason"),
    [
        ("/dev/zero", "it is a device, not a regular file"),
        ("/dev/null", "it is a device, not a regular file"),
    ],
)
def test_a_device_is_refused_without_reading(folder: Path, device: str, reason: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    (folder / "bank.yaml").symlink_to(device)
    out = _run_check(folder, "bank.yaml")
    assert (out.returncode, out.stderr.strip()) == (1, f"bank.yaml: cannot read the bank: {reason}")
    with pytest.raises(UnreadableFile, match=reason):
        read_regular_file(Path(device), limit=10, what="state file")


def test_read_regular_file_refuses_special_files_and_caps_the_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UnreadableFile, match=r"fifo: cannot read the record: it is a pipe"):
        read_regular_file(tmp_path / "fifo", limit=10, what="record")
    with pytest.raises(UnreadableFile, match="it is a folder, not a file"):
        read_regular_file(tmp_path, limit=10, what="record")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        with pytest.raises(UnreadableFile, match="it is a socket, not a regular file"):
            read_regular_file(tmp_path / "sock", limit=10, what="record")
    with pytest.raises(UnreadableFile, match="its path contains a NUL character"):
        read_regular_file(tmp_path / "a\x00b", limit=10, what="record")
    with pytest.raises(UnreadableFile, match="no such file"):
        read_regular_file(tmp_path / "missing", limit=10, what="record")
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(UnreadableFile, match="it is larger than 10 bytes") as info:
        read_regular_file(tmp_path / "big", limit=10, what="record")
    assert info.value.too_large and info.value.path == tmp_path / "big"
    (tmp_path / "ok").write_bytes(b"x" * 10)
    assert read_regular_file(tmp_path / "ok", limit=10, what="record") == b"x" * 10


# --- 7. special files are never replaced --------------------------------------------------------


def test_export_onto_special_files_is_refused(mini_bank: Path, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.gift")
    (tmp_path / "to-null.gift").symlink_to("/dev/null")
    (tmp_path / "to-stdout.gift").symlink_to("/dev/stdout")
    null_before = os.stat("/dev/null")
    targets = [
        (tmp_path / "fifo.gift", "a pipe (FIFO)"),
        (tmp_path / "to-null.gift", "a symbolic link"),
        (tmp_path / "to-stdout.gift", "a symbolic link"),
    ]
    # A device node of our own (never the system's /dev/null: a regression would replace it).
    device = tmp_path / "null.gift"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        targets.append((device, "a device"))
    except OSError:
        pass  # not root: the symbolic links to /dev/null and /dev/stdout stand in
    for target, kind in targets:
        result = CliRunner().invoke(app, ["export", "gift", str(mini_bank), "-o", str(target)])
        assert result.exit_code == 1, result.output
        assert result.stderr.strip() == (
            f"{target}: is {kind}, not a regular file; refusing to replace it, write to another name"
        )
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo.gift").st_mode)
    assert os.readlink(tmp_path / "to-null.gift") == "/dev/null"
    if len(targets) == 4:
        assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert os.stat("/dev/null").st_ino == null_before.st_ino
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# --- 8. positions survive what yaml-rs accepts ------------------------------------------------


@pytest.mark.parametrize(
    "char", ["\u2028", "\u2029", "\x85", "\x1b", "\x7f", "\x01", "\ufffe", "\x9f"]
)
@pytest.mark.parametrize("place", ["comment", "quoted"])
def test_positions_survive_characters_pyyaml_refuses(folder: Path, char: str, place: str) -> None:
    broken = VALID.replace("id: timeline", "id: Timeline")  # an error after the character
    if place == "comment":
        text = broken.replace("topics:\n", f"# a{char}comment\ntopics:\n")
        line = 86
    else:
        text = broken.replace('explanation: "Over $22 billion."', f'explanation: "Over{char}."')
        line = 85
    assert problems(check(folder, text))[-1] == (
        f"bank.yaml:{line}:9: questions[7] (id: Timeline): id 'Timeline' is not a valid id: use lowercase letters, digits and single '-' (like 'un-charter')"
    )


# --- 9. wording ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "answer: 22",
            "answer: " + "9" * 400,
            "69:13: questions[5] (id: china-investment): answer is too large a number (a 400-digit number)",
        ),
        (
            "tolerance: 0.5",
            "tolerance: " + "1" * 400,
            "70:16: questions[5] (id: china-investment): tolerance is too large a number (a 400-digit number)",
        ),
        (
            "id: keosayan",
            "id: " + "k" * 101,
            f"54:9: questions[4] (id: {'k' * 101}): id is 101 characters long; the limit is 100",
        ),
        (
            "topic: economy",
            "topic: " + "e" * 101,
            "39:12: questions[2] (id: sanctions-break): topic is 101 characters long; the limit is 100",
        ),
        (
            "difficulty: 2\n    tags: [china",
            "difficulty: 2\n    points: 0\n    tags: [china",
            "67:13: questions[5] (id: china-investment): points must be at least 1, not 0",
        ),
        (
            "tolerance: 0.5",
            "tolerance: -1",
            "70:16: questions[5] (id: china-investment): tolerance must be at least 0.0, not -1",
        ),
        (
            "difficulty: 2\n    tags: [china",
            "difficulty: 2\n    level: rem\n    tags: [china",
            "67:12: questions[5] (id: china-investment): level must be one of 'remember', 'understand', 'apply', 'analyse' or 'evaluate', not 'rem'",
        ),
        (
            'prompt: "Match each person to their role."',
            "prompt: true",
            "79:13: questions[6] (id: who-is-who): prompt must be text, not true/false (write it in quotes)",
        ),
    ],
)
def test_plain_wording(folder: Path, old: str, new: str, message: str) -> None:
    assert old in VALID
    (line,) = problems(check(folder, VALID.replace(old, new, 1)))
    assert line == f"bank.yaml:{message}"
    assert "Input should" not in line and "Value error" not in line


# --- 11. the set of outputs under kill -9, stale leftovers, concurrent builds -----------------


def test_leftovers_of_a_killed_build_are_removed_by_the_next(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.txt": b"a", "b.txt": b"b"})
    for leftover in (".a.txt.abcd1234.tmp", ".b.txt.x_y9z0ab.bak", ".kzquiz-pending.qwerty12.tmp"):
        (tmp_path / leftover).write_bytes(b"half")
    (tmp_path / ".keep-me").write_bytes(b"the user's")
    write_files(tmp_path, {"a.txt": b"A"})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep-me", "a.txt", "b.txt"]


def test_a_journal_left_by_a_kill_is_rolled_forward(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.txt": b"old a", "b.txt": b"old b"})
    # What a build killed after renaming a.txt but before b.txt leaves behind:
    (tmp_path / "a.txt").write_bytes(b"new a")
    (tmp_path / ".b.txt.abcdefgh.tmp").write_bytes(b"new b")
    (tmp_path / ".a.txt.abcdefgh.bak").write_bytes(b"old a")
    (tmp_path / JOURNAL_NAME).write_text(
        json.dumps([[".a.txt.zzzzzzzz.tmp", "a.txt"], [".b.txt.abcdefgh.tmp", "b.txt"]])
    )
    assert settle(tmp_path) == ["b.txt"]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {
        "a.txt": b"new a",
        "b.txt": b"new b",
    }
    assert settle(tmp_path) == []


def test_a_second_writer_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
            " fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(tmp_path / LOCK_NAME),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputError, match="another kzquiz is writing into this folder"):
            write_files(tmp_path, {"a.txt": b"a"})
        assert not (tmp_path / "a.txt").exists()
    finally:
        holder.kill()
        holder.wait()
    write_files(tmp_path, {"a.txt": b"a"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(".")}


def _build(bank: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    return subprocess.Popen(
        [sys.executable, "-m", "kzquiz", "build", str(bank), "-o", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_writing(out: Path, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Return once the build has begun writing (a hidden temporary file is there)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            if any(e.name.endswith(".tmp") for e in os.scandir(out)):
                return
        except FileNotFoundError:
            pass
        time.sleep(0.0005)


def test_kill_9_during_a_build_leaves_one_whole_set(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from genbank import generate
    finally:
        sys.path.pop(0)
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    old_bank, new_bank = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old_bank.write_text(generate(2000, seed=1), encoding="utf-8")
    new_bank.write_text(generate(2000, seed=2), encoding="utf-8")
    reference_old = tmp_path / "ref-old"
    assert _build(old_bank, reference_old).wait() == 0
    reference_new = tmp_path / "ref-new"
    shutil.copytree(reference_old, reference_new)
    assert _build(new_bank, reference_new).wait() == 0
    old, new = _files(reference_old), _files(reference_new)
    assert old.keys() == new.keys() and all(old[k] != new[k] for k in old)
    outcomes = []
    # Three kills while rendering, seven at points of the writing itself.
    for n, (after_writing, delay) in enumerate(
        [(False, 0.2), (False, 0.6), (False, 1.2)]
        + [(True, d) for d in (0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08)]
    ):
        out = tmp_path / f"out-{n}"
        shutil.copytree(reference_old, out)
        proc = _build(new_bank, out)
        if after_writing:
            _wait_for_writing(out, proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = _files(out)
        if (out / JOURNAL_NAME).exists():
            # Killed while renaming: the journal finishes the set first thing next time.
            outcomes.append("renaming")
            settle(out)
            now = _files(out)
            assert now == new, f"kill {n}: the journal did not complete the new set"
        else:
            outcomes.append("new" if now == new else "old")
            assert now in (old, new), f"kill {n}: the folder holds a mix of two builds"
        # The next build removes whatever the killed one left behind.
        assert _build(new_bank, out).wait() == 0
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")], f"kill {n}"
    print("kill -9 outcomes:", outcomes)
    assert outcomes.count("old") >= 3, outcomes  # the kills before writing changed nothing


# --- issue 13: the source text's title, per-type field hints, quoting hints -------------------


def test_a_title_that_looks_like_a_paragraph_is_said_and_quotes_from_it_are_found(
    folder: Path,
) -> None:
    # A text that starts with a paragraph instead of a title line: that paragraph is lost.
    opening = "The forum opened with a long welcome to every guest, said the organisers today."
    body = ARTICLE.split("\n\n", 1)[1]
    (folder / "article.txt").write_text(f"{opening}\n\n{body}", encoding="utf-8")
    quoted = VALID.replace(
        'evidence: "two UN principles came into conflict"',
        'evidence: "a long welcome to every guest"',
    )
    assert problems(check(folder, quoted)) == [
        "bank.yaml:24:15: questions[0] (id: un-two-principles): evidence quote found in the title"
        " of the source text, not in a paragraph; quote a paragraph; the text's first block is"
        " taken as its title: start the file with a title line"
    ]
    result = check(folder, VALID)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        "warning: bank.yaml:8:11: bank.source.text: the source text's first block (79 characters)"
        " reads like a paragraph, but the first block is the title and is not numbered or"
        " quotable; start the file with a one-line title and a blank line"
    )


def test_a_real_title_line_gives_no_title_warning(folder: Path) -> None:
    result = check(folder, VALID)
    assert result.exit_code == 0 and "title" not in result.stderr


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            KEOSAYAN_ANSWERS,
            'answer: "Keosayan"',
            "60:5: questions[4] (id: keosayan): unknown field 'answer' (did you mean 'answers'?); remove it or fix its name",
        ),
        (
            "answer: 22",
            "answers: [22]",
            "69:5: questions[5] (id: china-investment): unknown field 'answers' (did you mean 'answer'?); remove it or fix its name",
        ),
        (
            "answer: false",
            "answers: [false]",
            "43:5: questions[2] (id: sanctions-break): unknown field 'answers' (did you mean 'answer'?); remove it or fix its name",
        ),
        (
            '    prompt: "Put these',
            '    promt: "Put these',
            "90:5: questions[7] (id: timeline): unknown field 'promt' (did you mean 'prompt'?); remove it or fix its name",
        ),
    ],
)
def test_unknown_fields_suggest_the_name_that_type_has(
    folder: Path, old: str, new: str, message: str
) -> None:
    assert old in VALID
    lines = problems(check(folder, VALID.replace(old, new, 1)))
    assert f"bank.yaml:{message}" in lines
    assert not any("'answer' (did you mean 'answer'?)" in line for line in lines)


def test_unquoted_text_with_a_colon_gets_a_hint(folder: Path) -> None:
    text = VALID.replace('prompt: "Match each person to their role."', "prompt: Who said: this?")
    assert problems(check(folder, text)) == [
        "bank.yaml:79:21: YAML syntax error: mapping values are not allowed in this context"
        " (text that contains ': ' must be quoted, like prompt: \"Who said: ...?\")"
    ]


# --- issue 21: warnings are located without composing the whole bank again -------------------


def _untagged(n: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from genbank import generate
    finally:
        sys.path.pop(0)
    return "".join(line for line in generate(n).splitlines(True) if "tags:" not in line)


LAYOUTS = {
    "generated": lambda t: t,
    "quoted ids": lambda t: t.replace("  - id: q-", '  - id: "q-').replace(
        "\n    type:", '"\n    type:'
    ),
    "id not first": lambda t: t.replace(
        "  - id: q-000003\n    type: cloze\n", "  - type: cloze\n    id: q-000003\n"
    ),
    "dash alone": lambda t: t.replace("  - id: q-000005\n", "  -\n    id: q-000005\n"),
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "comments": lambda t: t.replace("  - id: q-000007\n", "  # seven\n  - id: q-000007 # the id\n"),
    "indented 4": lambda t: (
        t.split("questions:\n")[0]
        + "questions:\n"
        + "".join("  " + line for line in t.split("questions:\n")[1].splitlines(True))
    ),
    "control chars": lambda t: t.replace("topics:\n", "# \u2028 \x1b\ntopics:\n"),
    # Text values written plain, single-quoted, with an escape, a comment, or on the next line.
    "plain evidence": lambda t: re.sub(
        r'^(    evidence: )"([^"\\:#]*)"$', r"\1\2", t, flags=re.MULTILINE
    ),
    "single-quoted": lambda t: re.sub(
        r'^(    (?:evidence|prompt|text): )"([^"\\\']*)"$', r"\1'\2'", t, flags=re.MULTILINE
    ),
    "escaped": lambda t: re.sub(
        r'^(    evidence: )"([^"\\]*) ([^"\\ ]*)"$', r'\1"\2\\x20\3"', t, flags=re.MULTILINE
    ),
    "commented": lambda t: re.sub(
        r'^(    (?:evidence|prompt): "[^"]*")$', r"\1  # note", t, flags=re.MULTILINE
    ),
    "next line": lambda t: re.sub(
        r'^    (evidence|prompt|text): ("[^"]*")$', r"    \1:\n      \2", t, flags=re.MULTILINE
    ),
    "flow question": lambda t: (
        t
        + "  - {id: q-flow, type: truefalse, topic: topic-1, difficulty: 1, prompt: P,"
        + " answer: true, explanation: E, evidence: "
        + t.split("evidence: ", 1)[1].split("\n", 1)[0]
        + "}\n"
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_warning_positions_equal_those_of_the_whole_document(
    folder: Path, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml_rs

    from kzquiz import loader

    text = LAYOUTS[layout](_untagged(40))
    text = text.replace("  topic-8: ", "  topic-9: x\n  topic-8: ")  # a topic without questions
    path = folder / "bank.yaml"
    path.write_bytes(text.encode())
    try:
        loaded = load_bank(path)
    except Exception as exc:  # the flow layout edit must still be a valid bank
        pytest.fail(f"{layout}: {exc}")
    assert len(loaded.warnings) >= 41, loaded.warnings
    data = yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
    whole = loader._Locator(path.read_text(encoding="utf-8"), str(path), data)
    from kzquiz.quality import quality_findings
    from kzquiz.validate import check_warnings

    found = [*check_warnings(loaded.bank, loaded.source), *quality_findings(loaded.bank)]
    expected = sorted(
        (whole.problem(f.path, f.message) for f in found),
        key=lambda p: (p.line or 0, p.col or 0),
    )
    assert loaded.warnings == expected
    assert all(p.line is not None for p in loaded.warnings)


def test_a_bank_without_tags_is_not_composed_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kzquiz import loader

    def refuse(self: Any) -> None:
        raise AssertionError("the whole document was composed to locate warnings")

    monkeypatch.setattr(loader._Locator, "_compose", refuse)
    path = folder / "bank.yaml"
    path.write_text(_untagged(300), encoding="utf-8")
    loaded = load_bank(path)
    assert sum("has no tags" in w.message for w in loaded.warnings) == 300
    assert loaded.warnings[0].line == 18 and loaded.warnings[-1].line is not None


def test_pydantic_wording_is_replaced() -> None:
    from kzquiz.loader import _describe

    err = {
        "type": "value_error",
        "loc": ("questions", 0, "excludes"),
        "input": "a5",
        "msg": "Value error, 'a5' is not one of the ids",
    }
    assert _describe(err) == "excludes: 'a5' is not one of the ids"
    err = {
        "type": "greater_than_equal",
        "loc": ("questions", 0, "points"),
        "input": 0,
        "ctx": {"ge": 1},
        "msg": "Input should be greater than or equal to 1",
    }
    assert _describe(err) == "points must be at least 1, not 0"
