"""YAML file -> validated Bank, collecting every problem with file:line:col before failing.

Parsing speed matters (a district bank has tens of thousands of questions), so the happy
path parses with yaml-rs (Rust, safe, refuses duplicate keys and alias bombs; see read.py)
and keeps no positions. Only when there is something to report is the text composed again
with PyYAML's safe composer, whose nodes carry line/column marks, to point at each problem.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic
import yaml_rs

from kzquiz.bank import LoadedBank
from kzquiz.errors import BankError, Problem
from kzquiz.model import (
    FIELD_NAMES,
    ID_PATTERN,
    MAX_TEXT,
    QUESTION_TYPES,
    TEXT_PATTERN,
    Bank,
    Question,
)
from kzquiz.quality import check_excludes, quality_findings
from kzquiz.read import BankReading, read_text
from kzquiz.source import SourceText
from kzquiz.speed import paused_gc
from kzquiz.validate import check_answers, check_identity, check_warnings, suggest

if TYPE_CHECKING:
    # Imported where it is used instead: only a bank with problems (or tags) needs PyYAML,
    # and a valid bank need not pay for its import.
    import yaml

MAX_SOURCE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64  # a valid bank nests 6 levels deep
_Path = tuple[Any, ...]


def load_bank(
    path: Path, *, display: str | None = None, reading: BankReading | None = None
) -> LoadedBank:
    """Read, parse and validate a bank; raise BankError listing every problem.

    `reading` is the same file already being read (BankReading.start), else it is read now.
    """
    with paused_gc():
        return _load_bank(reading or BankReading.now(path, display))


def _load_bank(reading: BankReading) -> LoadedBank:
    path, name = reading.path, reading.name
    text = reading.text()
    try:
        data = reading.data()
    except yaml_rs.YAMLDecodeError as exc:
        raise BankError(_yaml_problems(text, name, str(exc))) from None
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:
        raise BankError([Problem(name, 1, 1, "", f"YAML cannot be read: {exc}")]) from None
    reading.release()
    loc = _Locator(text, name, data)
    if not isinstance(data, dict):
        raise BankError([Problem(name, 1, 1, "", _not_a_mapping(data))])
    problems: list[Problem] = []
    bank: Bank | None = None
    try:
        bank = Bank.model_validate(data)
        indexed: list[tuple[int, Any]] = list(enumerate(bank.questions))
        topics = list(bank.topics)
    except pydantic.ValidationError as exc:
        # A valid bank nests six levels deep, so only an invalid one can be pathologically deep.
        depth = _depth(data)
        if depth > MAX_DEPTH:
            line = _deepest_line(text)
            raise BankError(
                [
                    Problem(
                        name,
                        line,
                        1,
                        "",
                        f"the YAML nests more than {MAX_DEPTH} levels deep; a bank needs at most 6",
                    )
                ]
            ) from None
        problems.extend(loc.problem(_strip_tag(e["loc"]), _describe(e)) for e in _errors(exc))
        # Validate question by question too, so cross-question rules still report on the rest.
        indexed, topics = (
            _valid_questions(data),
            list(data.get("topics") or {}) if isinstance(data.get("topics"), dict) else [],
        )
    source, source_problems = _load_source(path, data, loc)
    problems.extend(source_problems)
    findings, paragraph_of = check_identity(data.get("questions"), [str(t) for t in topics], source)
    findings.extend(check_answers(indexed))
    findings.extend(check_excludes(data.get("questions")))
    problems.extend(loc.problem(f.path, f.message) for f in findings)
    if problems or bank is None or source is None:
        raise BankError(sorted(problems, key=_order))
    found = [*check_warnings(bank), *quality_findings(bank)]
    warnings = [loc.problem(f.path, f.message) for f in found]
    return LoadedBank(bank, path, name, source, paragraph_of, sorted(warnings, key=_order))


def _order(p: Problem) -> tuple[int, int]:
    return (p.line or 0, p.col or 0)


_YAML_AT = re.compile(r"line (\d+), column (\d+)")


def _line_of(text: str, needle: str) -> tuple[int, int]:
    at = text.find(needle)
    if at < 0:
        return 1, 1
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def _yaml_problems(text: str, name: str, message: str) -> list[Problem]:
    m = _YAML_AT.search(message)
    if m:
        reason = [ln for ln in message.strip().splitlines() if ln.strip()][-1].strip()
        line, col = int(m.group(1)), int(m.group(2))
        if "tab" in reason:
            reason += " (indent with spaces, not tabs)"
            # The parser may stop at the end of the line before; point at the tab itself.
            lines = text.splitlines()
            for number in range(line, min(line + 2, len(lines)) + 1):
                if "\t" in lines[number - 1]:
                    line, col = number, lines[number - 1].index("\t") + 1
                    break
        return [Problem(name, line, col, "", f"YAML syntax error: {reason}")]
    if message.startswith("duplicate mapping key"):
        dups = _Locator(text, name, None).duplicate_keys()
        if dups:
            return dups
        return [Problem(name, 1, 1, "", f"YAML error: {message}")]
    if message.startswith("Invalid tag"):
        tag = message.split(":", 1)[1].strip().strip("'")
        line, col = _line_of(text, tag)
        return [
            Problem(
                name,
                line,
                col,
                "",
                f"YAML tag {tag} is refused: a bank is plain data (no !!python or other object tags)",
            )
        ]
    if "alias" in message:
        found = re.search(r"\*[^\s,\]\}]+", text)
        line, col = _line_of(text, found.group(0)) if found else (1, 1)
        return [
            Problem(
                name,
                line,
                col,
                "",
                "YAML aliases expand to too much data (an alias bomb?); write the values out instead",
            )
        ]
    return [Problem(name, 1, 1, "", f"YAML error: {message}")]


def _not_a_mapping(data: Any) -> str:
    if data is None:
        return "the bank is empty; it needs `bank:`, `topics:` and `questions:`"
    return f"the bank must be a mapping with `bank:`, `topics:` and `questions:`, not {_kind(data)}"


def _kind(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "nothing (null)",
    }.get(type(value), type(value).__name__)


def _errors(exc: pydantic.ValidationError) -> list[Any]:
    return exc.errors(include_url=False, include_context=True)


def _strip_tag(loc: tuple[Any, ...]) -> _Path:
    # pydantic puts the union member's tag into the path: questions.3.single.choices -> drop it
    if len(loc) > 2 and loc[0] == "questions" and loc[2] in QUESTION_TYPES:
        return (loc[0], loc[1], *loc[3:])
    return tuple(loc)


def _describe(err: Any) -> str:
    kind, loc, ctx, value = (
        err["type"],
        _strip_tag(err["loc"]),
        err.get("ctx") or {},
        err.get("input"),
    )
    field_name = _label(loc)
    last = next((p for p in reversed(loc) if isinstance(p, str) and p != "[key]"), "")
    if kind == "missing":
        return f"missing required field '{field_name}'"
    if kind == "extra_forbidden":
        return f"unknown field '{field_name}'{suggest(str(last), list(FIELD_NAMES))}; remove it or fix its name"
    if kind == "union_tag_invalid":
        return f"unknown question type {ctx.get('tag')!r}{suggest(str(ctx.get('tag')), list(QUESTION_TYPES))}; use one of: {', '.join(QUESTION_TYPES)}"
    if kind == "union_tag_not_found":
        return f"missing `type:`; use one of: {', '.join(QUESTION_TYPES)}"
    if kind == "model_type" or kind == "model_attributes_type":
        return f"'{field_name or 'item'}' must be a mapping of fields, not {_kind(value)}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern")
        if pattern == ID_PATTERN:
            return f"{field_name} {value!r} is not a valid id: use lowercase letters, digits and single '-' (like 'un-charter')"
        if pattern == TEXT_PATTERN:
            bad = next(
                (c for c in str(value) if re.match(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", c)),
                "?",
            )
            return f"{field_name} contains the control character U+{ord(bad):04X}; remove it"
        return f"{field_name} {value!r} is not a language code like 'en' or 'pt-BR'"
    if kind == "string_too_short":
        return f"{field_name} must not be empty"
    if kind == "string_too_long":
        return f"{field_name} is {len(str(value)):,} characters long; the limit is {MAX_TEXT:,}"
    if kind == "too_short":
        least = ctx.get("min_length")
        return f"{field_name} needs at least {least} item{'' if least == 1 else 's'}, found {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"{field_name} has {ctx.get('actual_length'):,} items; the limit is {ctx.get('max_length'):,}"
    if kind in ("greater_than_equal", "less_than_equal") and field_name == "difficulty":
        return f"difficulty must be 1 (easy), 2 (medium) or 3 (hard), not {value!r}"
    if kind in (
        "string_type",
        "int_type",
        "float_type",
        "bool_type",
        "list_type",
        "dict_type",
        "tuple_type",
        "int_from_float",
        "int_parsing",
        "float_parsing",
        "bool_parsing",
    ):
        expected = {
            "string_type": "text",
            "int_type": "a whole number",
            "int_from_float": "a whole number",
            "int_parsing": "a whole number",
            "float_type": "a number",
            "float_parsing": "a number",
            "bool_type": "true or false",
            "bool_parsing": "true or false",
            "list_type": "a list",
            "dict_type": "a mapping",
            "tuple_type": "a list",
        }[kind]
        return f"{field_name or 'value'} must be {expected}, not {_kind(value)}"
    return f"{field_name}: {err['msg']}" if field_name else str(err["msg"])


def _valid_questions(data: dict[str, Any]) -> list[tuple[int, Any]]:
    """The questions that are valid on their own, with their index in the document."""
    questions = data.get("questions")
    if not isinstance(questions, list):
        return []
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(Question)
    valid = []
    for i, item in enumerate(questions):
        with contextlib.suppress(pydantic.ValidationError):
            valid.append((i, adapter.validate_python(item)))
    return valid


def _load_source(
    bank_path: Path, data: dict[str, Any], loc: _Locator
) -> tuple[SourceText | None, list[Problem]]:
    at = ("bank", "source", "text")
    info = data.get("bank")
    source = info.get("source") if isinstance(info, dict) else None
    rel = source.get("text") if isinstance(source, dict) else None
    if not isinstance(rel, str) or not rel:
        return None, []  # the schema errors already say what is missing
    base = bank_path.parent.resolve()
    if os.path.isabs(rel):
        return None, [
            loc.problem(at, f"source text path {rel!r} must be relative to the bank's folder")
        ]
    target = (base / rel).resolve()
    if not target.is_relative_to(base):
        return None, [
            loc.problem(
                at,
                f"source text path {rel!r} leads outside the bank's folder; keep the article beside the bank",
            )
        ]
    try:
        text = read_text(target, rel, MAX_SOURCE_BYTES, "source text")
    except BankError as exc:
        return None, [loc.problem(at, p.message + f" ({rel})") for p in exc.problems]
    parsed = SourceText.parse(text)
    if not parsed.paragraphs:
        return None, [loc.problem(at, f"source text {rel!r} has no paragraphs")]
    return parsed, []


class _Locator:
    """Turns document paths into Problems with line/column, composing the YAML only if needed."""

    def __init__(self, text: str, name: str, data: Any) -> None:
        self.text, self.name, self.data = text, name, data
        self._root: yaml.Node | bool | None = False  # False: not composed yet

    def _compose(self) -> yaml.Node | None:
        import yaml

        if self._root is False:
            # (too-deep documents never get here: _load_bank refuses them first)
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            try:
                self._root = yaml.compose(self.text, Loader=loader)
            except (yaml.YAMLError, RecursionError, ValueError):
                self._root = None
        return self._root if isinstance(self._root, yaml.Node) else None

    def _walk(self, path: _Path) -> tuple[Any, Any]:
        """The deepest node on `path` that exists, and its start mark (None, None: no tree)."""
        import yaml

        node = self._compose()
        if node is None:
            return None, None
        mark = node.start_mark
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        node, mark = value, value.start_mark
                        break
                else:
                    if part == "[key]":
                        continue
                    break  # missing key: point at the mapping that lacks it
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                node = node.value[part]
                mark = node.start_mark
            elif part == "[key]":
                continue
            else:
                break
        return node, mark

    def _mark(self, path: _Path) -> tuple[int | None, int | None]:
        _, mark = self._walk(path)
        return (None, None) if mark is None else (mark.line + 1, mark.column + 1)

    def problem(self, path: _Path, message: str) -> Problem:
        """A Problem for `path`, described as the teacher sees it."""
        path = tuple(path)
        if message.startswith("unknown field"):
            # point at the key itself, not its value
            line, col = self._key_mark(path)
        else:
            line, col = self._mark(path)
        where = self._where(path)
        if not where.startswith("questions[") and (
            message.startswith(where) or f"'{where}'" in message
        ):
            where = ""  # the message already names the field
        return Problem(self.name, line, col, where, message)

    def _key_mark(self, path: _Path) -> tuple[int | None, int | None]:
        """Where the last key of `path` is written (for unknown fields), else its parent."""
        import yaml

        parent, mark = self._walk(path[:-1])
        if mark is None:
            return None, None
        if isinstance(parent, yaml.MappingNode):
            for key, _ in parent.value:
                if getattr(key, "value", None) == str(path[-1]):
                    return key.start_mark.line + 1, key.start_mark.column + 1
        return mark.line + 1, mark.column + 1

    def _where(self, path: _Path) -> str:
        if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
            qid = None
            if isinstance(self.data, dict) and isinstance(self.data.get("questions"), list):
                items = self.data["questions"]
                if 0 <= path[1] < len(items) and isinstance(items[path[1]], dict):
                    qid = items[path[1]].get("id")
            return (
                f"questions[{path[1]}] (id: {qid})"
                if isinstance(qid, str)
                else f"questions[{path[1]}]"
            )
        return _dotted(path)

    def duplicate_keys(self) -> list[Problem]:
        """Every key written twice in the same mapping."""
        import yaml

        root = self._compose()
        out: list[Problem] = []
        stack = [root] if root is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in node.value:
                    kv = getattr(key, "value", None)
                    if isinstance(kv, str):
                        if kv in seen:
                            m = key.start_mark
                            out.append(
                                Problem(
                                    self.name,
                                    m.line + 1,
                                    m.column + 1,
                                    "",
                                    f"duplicate key '{kv}' in the same mapping; the second would silently replace the first",
                                )
                            )
                        seen.add(kv)
                    stack.append(value)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
        return sorted(out, key=_order)


def _label(loc: _Path) -> str:
    """A field's name as the teacher sees it: relative to its question, or from the top."""
    if len(loc) > 2 and loc[0] == "questions" and isinstance(loc[1], int):
        return _dotted(loc[2:])
    return _dotted(loc)


def _dotted(path: _Path) -> str:
    out = ""
    for part in path:
        if part == "[key]":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _deepest_line(text: str) -> int:
    """The line that opens the most brackets or is indented the most: where nesting runs deep."""
    best, best_line = -1, 1
    for number, line in enumerate(text.splitlines(), start=1):
        score = max(line.count("[") + line.count("{"), (len(line) - len(line.lstrip(" "))) // 2)
        if score > best:
            best, best_line = score, number
    return best_line


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_DEPTH:
            return d
        if isinstance(value, dict):
            stack.extend((v, d + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, d + 1) for v in value)
    return deepest
