"""Anki decks (.apkg) that study well and update cleanly when the bank is edited.

The renderer is pure: the selection comes in the job, the previous state file as bytes, and
the package and the new state file go out as bytes. The modules, by concern: `ids` (fixed
ids and GUIDs), `state` (the state file), `models` (note types), `fields` (field HTML),
`package` (the collection and its zip).
"""

from __future__ import annotations

from kzquiz.render import Outputs, RenderJob
from kzquiz.render.anki.models import ANSWER, MATCHING, anki_search
from kzquiz.render.anki.package import build_deck
from kzquiz.render.anki.state import Lock, parse_state
from kzquiz.speed import paused_gc

__all__ = ["package_name", "render", "state_file_name"]


def state_file_name(bank_id: str) -> str:
    """The state file's name in the output folder."""
    return f"{bank_id}.lock.json"


def package_name(bank_id: str) -> str:
    """The package's file name in the output folder."""
    return f"{bank_id}.apkg"


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.apkg` of the selected questions and `<bank-id>.lock.json` of the whole bank."""
    loaded = job.loaded
    lock_file = state_file_name(loaded.id)
    with paused_gc():
        raw = job.previous.get(lock_file)
        previous = None if raw is None else parse_state(raw, loaded.id, lock_file)
        built = build_deck(loaded, job.questions, previous)
        lock_bytes = built.lock.dumps()
    name = package_name(loaded.id)
    notes = [
        f"anki: {name}: {built.notes} notes, {built.cards} cards"
        f" ({len(built.new)} new, {len(built.changed)} changed, {len(built.unchanged)} unchanged)"
    ]
    warning = _mass_removal(previous, {q.id for q in loaded.bank.questions})
    if warning:
        notes.insert(0, warning)
    # A matching question whose note was of the one-card kind (kzquiz Answer) reads as a
    # change of note type too: say what it is, with the same remedy.
    to_pairs = [qid for qid in built.retyped if built.retyped[qid] == (ANSWER.name, MATCHING.name)]
    retyped = [qid for qid in built.retyped if qid not in to_pairs]
    if to_pairs:
        notes.append(
            f"anki: matching now has a card per pair ({MATCHING.name}); Anki will not turn the"
            f" old one-card notes ({ANSWER.name}) into the new ones: delete them in Anki, then"
            f" import again: {', '.join(to_pairs)}"
        )
        notes.append(f"anki:   search in Anki: {anki_search(to_pairs)}")
    if retyped:
        notes.append(
            "anki: changed question type (Anki will not update these notes; delete them in Anki,"
            f" then import again): {', '.join(retyped)}"
        )
        notes.append(f"anki:   search in Anki: {anki_search(retyped)}")
    if built.moved:
        notes.append(
            "anki: moved to another topic (Anki updates these notes but leaves their cards in"
            f" the old subdeck; select them and use Change Deck): {', '.join(built.moved)}"
        )
        notes.append(f"anki:   search in Anki: {anki_search(built.moved)}")
    if built.removed:
        notes.append(
            "anki: removed from the bank (a package cannot delete their notes from Anki): "
            + ", ".join(built.removed)
        )
        notes.append(f"anki:   search in Anki: {anki_search(list(built.removed))}")
    return Outputs(files={name: built.apkg, lock_file: lock_bytes}, notes=notes)


# A build that drops at least this many of the previous build's questions, and at least this
# share of them, is almost never what the teacher meant (a truncated or wrong bank file).
MASS_REMOVAL_COUNT = 5
MASS_REMOVAL_SHARE = 0.25


def _mass_removal(previous: Lock | None, bank_ids: set[str]) -> str | None:
    """A loud warning when this build would drop a large share of the previous questions."""
    if previous is None:
        return None
    missing = sum(1 for qid in previous.questions if qid not in bank_ids)
    total = len(previous.questions)
    if missing < MASS_REMOVAL_COUNT or missing < MASS_REMOVAL_SHARE * total:
        return None
    return (
        f"anki: warning: {missing} of {total} questions in the previous build are missing"
        " from this bank; if that is a mistake (a truncated file?) do not import this deck"
    )
