"""YAML file -> validated Bank, collecting every problem with file:line:col before failing.

Parsing speed matters (a district bank has tens of thousands of questions), so the happy
path parses with yaml-rs (Rust, safe, refuses duplicate keys and alias bombs; see read.py)
and keeps no positions. Only when there is something to report is the text composed again
with PyYAML's safe composer, whose nodes carry line/column marks, to point at each problem.
"""

from __future__ import annotations

import bisect
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
    QUESTION_MODELS,
    QUESTION_TYPES,
    TEXT_PATTERN,
    Bank,
    Id,
    Question,
    Text,
)
from kzquiz.pools import check_pools
from kzquiz.quality import check_excludes, quality_findings
from kzquiz.read import BankReading, read_text
from kzquiz.source import SourceText
from kzquiz.speed import paused_gc
from kzquiz.validate import Identity, check_answers, check_identity, check_warnings, suggest

if TYPE_CHECKING:
    # Imported where it is used instead: only a bank with problems (or tags) needs PyYAML,
    # and a valid bank need not pay for its import.
    import yaml

    from kzquiz.images import ImageFile

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
        try:
            bank = Bank.model_validate(data)
        except pydantic.ValidationError as first:
            # Numbers written where text is expected: take their text as written, then again.
            if not _restore_number_text(data, first, loc):
                raise
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
        problems.extend(loc.problem(_strip_tag(e["loc"]), _describe(e, data)) for e in _errors(exc))
        # Validate question by question too, so cross-question rules still report on the rest.
        indexed = _valid_questions(data)
        raw_topics = data.get("topics")
        topics = [t for t in raw_topics if _ID.is_valid(t)] if isinstance(raw_topics, dict) else []
    source, source_problems = _load_source(path, data, bank, loc)
    problems.extend(source_problems)
    findings, paragraph_of = check_identity(_identities(data, bank), topics, source)
    findings.extend(check_answers(indexed))
    findings.extend(check_excludes(data.get("questions")))
    if bank is not None:
        findings.extend(check_pools(bank))
    problems.extend(loc.problem(f.path, f.message) for f in findings)
    # Pictures are read and checked here, once: every command that loads the bank checks them.
    images: dict[str, ImageFile] = {}
    if any(q.image is not None or q.explanation_image is not None for _, q in indexed):
        from kzquiz.images import check_images  # (a bank without pictures never needs it)

        images, image_findings = check_images(path, indexed)
        problems.extend(loc.key_problem(f.path, f.message) for f in image_findings)
    if bank is not None and source is not None and not problems:
        found = [*check_warnings(bank, source), *quality_findings(bank)]
        warnings = [loc.warning(f.path, f.message) for f in found]
        return LoadedBank(
            bank, path, name, source, paragraph_of, sorted(warnings, key=_order), images
        )
    if not problems:  # every way here leaves a problem; never fail without saying why
        problems.append(Problem(name, None, None, "", "the bank cannot be used"))
    raise BankError(sorted(problems, key=_order))


class _TypedField:
    """One field's type, to validate a single raw value as the model would."""

    def __init__(self, annotation: Any) -> None:
        self._adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)

    def value(self, raw: Any) -> Any:
        """The typed value, or None when the model would refuse it."""
        try:
            return self._adapter.validate_python(raw)
        except pydantic.ValidationError:
            return None

    def is_valid(self, raw: Any) -> bool:
        """Whether the model would take this value."""
        return self.value(raw) is not None


_ID = _TypedField(Id)
_TEXT = _TypedField(Text)


def _identities(data: dict[str, Any], bank: Bank | None) -> list[Identity]:
    """Each question's id, topic and evidence as the models hold them (None where invalid)."""
    if bank is not None:
        return [(i, q.id, q.topic, q.evidence) for i, q in enumerate(bank.questions)]
    questions = data.get("questions")
    if not isinstance(questions, list):
        return []
    out: list[Identity] = []
    for i, q in enumerate(questions):
        if isinstance(q, dict):
            out.append(
                (
                    i,
                    _ID.value(q.get("id")),
                    _ID.value(q.get("topic")),
                    _TEXT.value(q.get("evidence")),
                )
            )
    return out


def _restore_number_text(data: Any, exc: pydantic.ValidationError, loc: _Locator) -> bool:
    """Put each number found where text is expected back as the text it was written as.

    yaml-rs reads `answers: [3.10, 007]` as 3.1 and 7; the teacher meant what they typed, and a
    student typing it must be right. The scalar's source text comes from the composed document.
    Returns whether anything changed.
    """
    changed = False
    for err in _errors(exc):
        value = err.get("input")
        if err["type"] != "string_type" or not _is_number(value):
            continue
        at = _strip_tag(err["loc"])
        written = loc.scalar_text(at)
        if written is not None and _set_at(data, at, written):
            changed = True
    return changed


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _set_at(data: Any, path: _Path, value: str) -> bool:
    """Replace the value (or, for a "[key]" path, the key) at `path` in the raw data."""
    is_key = bool(path) and path[-1] == "[key]"
    steps = path[:-1] if is_key else path
    if not steps:
        return False
    node = data
    for part in steps[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    if is_key:
        if not isinstance(node, dict) or last not in node or value in node:
            return False
        items = [(value if k == last else k, v) for k, v in node.items()]
        node.clear()
        node.update(items)
        return True
    if (isinstance(node, dict) and last in node) or (
        isinstance(node, list) and isinstance(last, int) and 0 <= last < len(node)
    ):
        node[last] = value
        return True
    return False


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
        if "mapping values are not allowed" in reason:
            reason += " (text that contains ': ' must be quoted, like prompt: \"Who said: ...?\")"
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


def _field_names(loc: _Path, data: Any) -> list[str]:
    """The field names that fit where `loc` points: its question type's own, else all."""
    if len(loc) == 3 and loc[0] == "questions" and isinstance(loc[1], int):
        questions = data.get("questions") if isinstance(data, dict) else None
        if isinstance(questions, list) and 0 <= loc[1] < len(questions):
            q = questions[loc[1]]
            model = QUESTION_MODELS.get(str(q.get("type"))) if isinstance(q, dict) else None
            if model is not None:
                return list(model.model_fields)
    return list(FIELD_NAMES)


def _number(value: Any) -> str:
    """A number as the teacher wrote it, shortened when it is absurdly long."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"a {len(str(abs(value)))}-digit number"
    return repr(value)


_QUOTE_HINT = " (write it in quotes)"


def _describe(err: Any, data: Any = None) -> str:
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
        # Suggest what this question's type calls the field (`answers` for short, `answer`
        # for numeric), never the very name that was refused.
        names = [n for n in _field_names(loc, data) if n != last]
        return f"unknown field '{field_name}'{suggest(str(last), names)}; remove it or fix its name"
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
        return f"{field_name} is {len(str(value)):,} characters long; the limit is {ctx.get('max_length', 0):,}"
    if kind == "too_short":
        least = ctx.get("min_length")
        return f"{field_name} needs at least {least} item{'' if least == 1 else 's'}, found {ctx.get('actual_length')}"
    if kind == "too_long":
        return f"{field_name} has {ctx.get('actual_length'):,} items; the limit is {ctx.get('max_length'):,}"
    if kind in ("greater_than_equal", "less_than_equal") and field_name == "difficulty":
        return f"difficulty must be 1 (easy), 2 (medium) or 3 (hard), not {_number(value)}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"{field_name or 'value'} must be {words} {ctx.get(key)}, not {_number(value)}"
    if kind == "finite_number":
        return f"{field_name or 'value'} must be a finite number, not {value!r}"
    if kind == "literal_error":
        return f"{field_name or 'value'} must be one of {ctx.get('expected')}, not {value!r}"
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
        if kind == "float_type" and _is_number(value):
            # A whole number too long for a float (a 400-digit one): it is a number, just huge.
            return f"{field_name or 'value'} is too large a number ({_number(value)})"
        if kind == "int_type" and _is_number(value):
            return f"{field_name or 'value'} must be {expected}, not {_number(value)}"
        # (a number here is one whose written text could not be recovered; quoting keeps it)
        hint = (
            _QUOTE_HINT if kind == "string_type" and isinstance(value, (bool, int, float)) else ""
        )
        return f"{field_name or 'value'} must be {expected}, not {_kind(value)}{hint}"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{field_name}: {message}" if field_name else message


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
    bank_path: Path, data: dict[str, Any], bank: Bank | None, loc: _Locator
) -> tuple[SourceText | None, list[Problem]]:
    at = ("bank", "source", "text")
    if bank is not None:
        rel: Any = bank.bank.source.text
    else:
        info = data.get("bank")
        source = info.get("source") if isinstance(info, dict) else None
        rel = source.get("text") if isinstance(source, dict) else None
    if not isinstance(rel, str) or not rel:
        return None, []  # the schema errors already say what is missing
    if "\x00" in rel:
        return None, [loc.problem(at, "source text path contains a NUL character; remove it")]
    base = bank_path.parent.resolve()
    if os.path.isabs(rel):
        return None, [
            loc.problem(at, f"source text path {rel!r} must be relative to the bank's folder")
        ]
    try:
        target = (base / rel).resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a symlink loop, a name too long
        return None, [loc.problem(at, f"cannot read the source text: {exc} ({rel})")]
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
        return None, [
            loc.problem(at, p.message + f" ({rel}" + (f":{p.line}:{p.col})" if p.line else ")"))
            for p in exc.problems
        ]
    parsed = SourceText.parse(text)
    if not parsed.paragraphs:
        return None, [loc.problem(at, f"source text {rel!r} has no paragraphs")]
    return parsed, []


# What PyYAML refuses or reads as a line break but yaml-rs reads as an ordinary character:
# C0/C1 controls (ESC, DEL, ...), NEL, U+2028/2029, non-characters. Composing a copy with each one
# replaced by one printable character keeps every other position as yaml-rs sees it.
_NOT_FOR_PYYAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
_STAND_IN = "\ufffd"


def _for_pyyaml(text: str) -> str:
    return _NOT_FOR_PYYAML.sub(_STAND_IN, text)


_TOP_KEY = re.compile(r"^[^\s#\-]", re.MULTILINE)
_KEY = re.compile(r"[a-z_]+")  # a question's own keys, as the model names them


def _written_forms(value: str) -> tuple[str, ...]:
    """How one line can write `value`: plain or quoted without escapes.

    The check only makes sure the key found is the one the value was loaded from: a line
    that reads back as exactly the loaded text is where that value's node starts.
    """
    forms = [value]
    if '"' not in value and "\\" not in value:
        forms.append(f'"{value}"')
    if "'" not in value:
        forms.append(f"'{value}'")
    return tuple(forms)


class _Locator:
    """Turns document paths into Problems with line/column, composing the YAML only if needed.

    Warnings (a valid bank that e.g. has no tags anywhere) are located without composing the
    whole document: an id from a scan of the question's own lines, anything else by composing
    only the question's (or top-level key's) lines. Both are checked against the parsed data
    and give way to the whole document whenever the layout is not the plain block style.
    """

    def __init__(self, text: str, name: str, data: Any) -> None:
        self.text, self.name, self.data = text, name, data
        self._root: yaml.Node | bool | None = False  # False: not composed yet
        self._items: tuple[int, list[int], int] | bool | None = False  # False: not scanned yet
        self._line_starts: list[int] | None = None

    def _compose(self) -> yaml.Node | None:
        if self._root is False:
            # (too-deep documents never get here: _load_bank refuses them first)
            self._root = _compose_text(self.text)
        return self._root if not isinstance(self._root, bool) else None

    def _walk(self, path: _Path, root: Any = None) -> tuple[Any, Any]:
        """The deepest node on `path` that exists, and its start mark (None, None: no tree)."""
        import yaml

        node = self._compose() if root is None else root
        if node is None:
            return None, None
        mark = node.start_mark
        for part in path:
            if isinstance(node, yaml.MappingNode):
                want = _for_pyyaml(str(part))
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == want:
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

    def scalar_text(self, path: _Path) -> str | None:
        """The source text of the plain scalar (value, or key for a "[key]" path) at `path`."""
        import yaml

        node = self._compose()
        is_key = bool(path) and path[-1] == "[key]"
        steps = path[:-1] if is_key else path
        for n, part in enumerate(steps):
            want_key = is_key and n == len(steps) - 1
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        node = key if want_key else value
                        break
                else:
                    return None
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return None
                node = node.value[part]
            else:
                return None
        if not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
            return None
        value = str(node.value)
        return value if _STAND_IN not in value else None

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
        return self._located(path, message, line, col)

    def key_problem(self, path: _Path, message: str) -> Problem:
        """A Problem located at the last key of `path` itself (`image:`), not its value."""
        path = tuple(path)
        return self._located(path, message, *self._key_mark(path))

    def warning(self, path: _Path, message: str) -> Problem:
        """Like problem(), for a valid bank: located without composing the whole document."""
        path = tuple(path)
        at = self._quick_mark(path)
        if at is None:
            return self.problem(path, message)
        return self._located(path, message, *at)

    def _located(self, path: _Path, message: str, line: int | None, col: int | None) -> Problem:
        where = self._where(path)
        if not where.startswith("questions[") and (
            message.startswith(where) or f"'{where}'" in message
        ):
            where = ""  # the message already names the field
        return Problem(self.name, line, col, where, message)

    # --- locating without the whole document ---------------------------------------------

    def _position(self, at: int) -> tuple[int, int]:
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        line = bisect.bisect_right(self._line_starts, at)
        return line, at - self._line_starts[line - 1] + 1

    def _scan_items(self) -> tuple[int, list[int], int] | None:
        """(indent, start offset of each question's "-", end of the list), or None if unsure."""
        if self._items is not False:
            return self._items if not isinstance(self._items, bool) else None
        self._items = None
        text = self.text
        questions = self.data.get("questions") if isinstance(self.data, dict) else None
        if not isinstance(questions, list) or text.count("\r") != text.count("\r\n"):
            return None
        heads = list(re.finditer(r"^questions:[ \t]*(?:#[^\n]*)?\r?$", text, re.MULTILINE))
        if len(heads) != 1:
            return None
        after = heads[0].end()
        nxt = _TOP_KEY.search(text, after)
        end = nxt.start() if nxt else len(text)
        first = re.compile(r"^( *)-[ \t\r\n]", re.MULTILINE).search(text, after, end)
        if first is None or text[after : first.start()].strip() != "":
            return None
        indent = len(first.group(1))
        item = re.compile(rf"^ {{{indent}}}-(?=[ \t\r\n])", re.MULTILINE)
        starts = [m.start() + indent for m in item.finditer(text, after, end)]
        if len(starts) != len(questions):
            return None
        self._items = (indent, starts, end)
        return self._items

    def _quick_mark(self, path: _Path) -> tuple[int, int] | None:
        if path == ("questions",):
            # A bank-level warning (the item-quality figures) points at the list itself,
            # which starts where its first item's dash does.
            scan = self._scan_items()
            return self._position(scan[1][0]) if scan is not None and scan[1] else None
        if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
            scan = self._scan_items()
            if scan is None:
                return None
            indent, starts, end = scan
            i = path[1]
            lo = starts[i]
            hi = starts[i + 1] - indent if i + 1 < len(starts) else end
            if len(path) == 3 and isinstance(path[2], str):
                found = self._key_value(i, lo, hi, path[2])
                if found is not None:
                    return self._position(found)
            return self._slice_mark(self.text.rfind("\n", 0, lo) + 1, hi, path, (path[1],))
        if len(path) >= 1 and path[0] in ("bank", "topics"):
            head = re.search(rf"^{path[0]}:", self.text, re.MULTILINE)
            if head is None:
                return None
            nxt = _TOP_KEY.search(self.text, head.end())
            return self._slice_mark(head.start(), nxt.start() if nxt else len(self.text), path, ())
        return None

    def _key_value(self, i: int, lo: int, hi: int, key: str) -> int | None:
        """Where the text value of question i's `key` starts, found in its own lines.

        None if not certain: only a value written on its key's line, plain or quoted, that
        reads back as exactly the loaded text (the common layout; anything else is composed).
        """
        question = self.data["questions"][i]
        value_text = question.get(key) if isinstance(question, dict) else None
        if not isinstance(value_text, str) or not _KEY.fullmatch(key):
            return None
        text = self.text
        # The item's keys line up at the column of the first character after "- ".
        at = lo + 1
        while at < hi and text[at] in " \t":
            at += 1
        if at >= hi or text[at] in "\r\n#{[":
            return None  # a dash alone on its line, or a flow mapping: not the plain layout
        line_start = text.rfind("\n", 0, lo) + 1
        key_col = at - line_start
        head = f"{key}:"
        if text.startswith(head, at):
            found = at
        else:
            keys = list(re.finditer(rf"^ {{{key_col}}}{head}", text[lo:hi], re.MULTILINE))
            if len(keys) != 1:
                return None
            found = lo + keys[0].start() + key_col
        value = found + len(head)
        while value < hi and text[value] in " \t":
            value += 1
        if value == found + len(head):
            return None
        if key == "id":
            # An id is one plain word: it may be followed by more of a flow-less line.
            for written in (value_text, f'"{value_text}"', f"'{value_text}'"):
                if text.startswith(written, value):
                    rest = text[value + len(written) : value + len(written) + 1]
                    if rest in ("", "\n", "\r", " ", "\t"):
                        return value
            return None
        eol = text.find("\n", value, hi)
        line = text[value : hi if eol < 0 else eol].rstrip(" \t\r")
        if not line.startswith("*") and line in _written_forms(value_text):
            return value
        return None

    def _slice_mark(self, lo: int, hi: int, path: _Path, prefix: _Path) -> tuple[int, int] | None:
        """Compose only text[lo:hi] (`lo` starts a line) and walk `path` in it.

        The slice's marks count from its own first line; the lines before it are added back
        from the line-start table, so each warning costs what its own lines cost (counting or
        padding the lines before it made a bank full of warnings quadratic).
        """
        import yaml

        self._position(lo)  # builds the line-start table once
        assert self._line_starts is not None
        lines_before = bisect.bisect_right(self._line_starts, lo) - 1
        root = _compose_text(self.text[lo:hi])
        if root is None:
            return None
        if prefix:  # a question's lines: a sequence of exactly that question
            if not isinstance(root, yaml.SequenceNode) or len(root.value) != 1:
                return None
            _node, mark = self._walk((0, *path[2:]), root)
        else:  # a top-level key's lines: a mapping of that key alone
            if not isinstance(root, yaml.MappingNode) or len(root.value) != 1:
                return None
            _node, mark = self._walk(path, root)
        return None if mark is None else (lines_before + mark.line + 1, mark.column + 1)

    def _key_mark(self, path: _Path) -> tuple[int | None, int | None]:
        """Where the last key of `path` is written (for unknown fields), else its parent."""
        import yaml

        parent, mark = self._walk(path[:-1])
        if mark is None:
            return None, None
        if isinstance(parent, yaml.MappingNode):
            want = _for_pyyaml(str(path[-1]))
            for key, _ in parent.value:
                if getattr(key, "value", None) == want:
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


def _compose_text(text: str) -> yaml.Node | None:
    """PyYAML's node tree of `text` (with what it cannot read stood in for), or None."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.compose(_for_pyyaml(text), Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


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
