"""Matching words and phrases in linear time, on the text as a reader sees it.

* :func:`reading_form` is ``core.phi``'s screening form (invisible characters
  dropped, NFKC, exotic spaces plain) plus a one-for-one fold of look-alike
  letters (Cyrillic and Greek letters that look Latin, accented Latin letters)
  to plain Latin, with the way back to the text as written: "ſhіt" with a
  Cyrillic "і", or "s\u200bhit" with a zero-width space, reads "shit".
* :class:`PhraseMatcher` compiles any number of words and phrases into *one*
  pattern shaped like a trie (``ab(?:c|d)``), tried at every position through
  a look-ahead: each position costs at most the longest phrase, so a text of
  n characters costs O(n x longest phrase) whatever the number of phrases.
* :func:`check_regex` refuses a host's regular expression that could take
  more than linear time: unbounded or nested repeats, back-references,
  over-long patterns.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from portal_social.core.phi.folding import _fold

#: Longest word, phrase or regular expression accepted.
MAX_PHRASE_LENGTH = 100
MAX_REGEX_LENGTH = 200
#: Largest bounded repeat allowed in a regular expression ("{1,50}").
MAX_REPEAT = 50
#: Spaces allowed between the words of a phrase ("kill   myself").
_GAP = r"\s{1,10}"

# Letters of other scripts that readers take for Latin ones. One character
# for one, so offsets survive; case is kept (matching ignores it anyway).
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "χ": "x", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X", "Ζ": "Z",
    # Latin letters readers take for others
    "ſ": "s", "ı": "i", "ɑ": "a", "ɡ": "g", "ⅼ": "l",
}  # fmt: skip


@functools.cache
def _letter_table() -> dict[int, str]:
    """Accented Latin letters to their base letter ("é" -> "e", "ñ" -> "n"), plus :data:`_CONFUSABLES`."""
    table = {ord(k): v for k, v in _CONFUSABLES.items()}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            table[code] = base
    return table


class Reading(NamedTuple):
    """A text's reading form, and for each of its characters the span of the text it came from."""

    work: str
    starts: list[int] | None
    ends: list[int] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """``work[start:end]`` as offsets into the text as written."""
        if self.starts is None or end <= start:
            return start, end
        return self.starts[start], self.ends[end - 1]


def reading_form(text: str) -> Reading:
    """``text`` as a reader sees it, folded for matching (see the module's docstring)."""
    folded = _fold(text)
    # One for one: offsets into folded.work stay valid.
    work = folded.work.translate(_letter_table()) if not folded.work.isascii() else folded.work
    return Reading(work, folded.starts, folded.ends)


def match_key(phrase: str) -> str:
    """How a word or phrase is compared: its reading form, lower case, single spaces."""
    return " ".join(reading_form(phrase).work.lower().split())


# --------------------------------------------------------------------------- phrases


def _trie_pattern(keys: Iterable[str]) -> str:
    """One regular expression matching exactly ``keys``, shaped as their trie: no
    two alternatives start with the same character, so nothing is tried twice."""
    trie: dict = {}
    for key in keys:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = True

    def build(node: dict) -> str:
        ends_here = "" in node
        branches = [(_GAP if c == " " else re.escape(c)) + build(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends_here:
            # Greedy: the longer phrase is tried first, the shorter one is kept on the way.
            return "(?:" + body + ")?" if len(branches) == 1 else body + "?"
        return body

    return build(trie)


class Hit(NamedTuple):
    """One phrase found: its key, and where it is in the reading form."""

    key: str
    start: int
    end: int


class PhraseMatcher:
    """Finds every occurrence of any of many phrases, each whole-word or anywhere.

    Every position of the text is tried once; at each, the longest phrase
    that starts there is found by the trie pattern, then every shorter phrase
    it starts with (so "bull" under "bullshit" is reported too).
    """

    def __init__(self, phrases: Iterable[tuple[str, bool]]):
        """``phrases``: ``(phrase, whole_word)`` pairs; phrases that fold to the same key merge."""
        self.whole: dict[str, bool] = {}
        for phrase, whole_word in phrases:
            key = match_key(phrase)
            if key:
                # A phrase both whole-word and anywhere matches anywhere.
                self.whole[key] = self.whole.get(key, True) and whole_word
        # For each phrase, the shorter phrases it starts with ("bull" for "bullshit"), longest first.
        self._prefixes = {
            key: [key[:i] for i in range(len(key) - 1, 0, -1) if key[:i] in self.whole] for key in self.whole
        }
        if self.whole:
            # The look-ahead makes finditer try every position, so overlapping phrases are all found.
            self._pattern = re.compile(r"(?=(" + _trie_pattern(sorted(self.whole)) + r"))", re.IGNORECASE)
        else:
            self._pattern = None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def find(self, work: str) -> Iterator[Hit]:
        """Every phrase in ``work`` (a reading form), as hits in order of start."""
        if self._pattern is None or not work:
            return
        for m in self._pattern.finditer(work):
            start, end = m.span(1)
            if end <= start:
                continue
            key = " ".join(work[start:end].lower().split())
            if key not in self.whole:
                continue
            for candidate in (key, *self._prefixes[key]):
                stop = end if candidate is key else _end_of(work, start, len(candidate))
                if self.whole[candidate] and not _word_bounded(work, start, stop):
                    continue
                yield Hit(candidate, start, stop)


def _end_of(work: str, start: int, length: int) -> int:
    """Where a phrase of ``length`` key characters that starts at ``start`` ends in
    ``work``, where each single space of the key may be a run of spaces."""
    pos, taken = start, 0
    while taken < length:
        if work[pos].isspace():
            while work[pos].isspace():
                pos += 1
        else:
            pos += 1
        taken += 1
    return pos


def _word_bounded(work: str, start: int, end: int) -> bool:
    before = work[start - 1] if start > 0 else " "
    after = work[end] if end < len(work) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


# --------------------------------------------------------------------------- regular expressions


class UnsafeRegex(ValueError):
    """A regular expression screening will not run; ``code`` says why."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def _parser():
    try:
        from re import _constants as constants
        from re import _parser as parser
    except ImportError:  # pragma: no cover - Python before 3.11
        import sre_constants as constants
        import sre_parse as parser
    return parser, constants


def check_regex(source: str) -> re.Pattern[str]:
    """Compile ``source`` for screening, or raise :class:`UnsafeRegex`.

    Refused (``code``): ``"too_long"`` (over :data:`MAX_REGEX_LENGTH`
    characters), ``"invalid"`` (does not compile), ``"unbounded"`` (``*``,
    ``+``, ``{n,}`` or a repeat over :data:`MAX_REPEAT`), ``"nested"`` (a repeat
    inside a repeat), ``"backreference"``, ``"empty"`` (matches the empty
    text). Together these keep every match attempt bounded, so a pattern runs
    in time linear in the text.
    """
    if not isinstance(source, str) or not source.strip():
        raise UnsafeRegex("empty")
    if len(source) > MAX_REGEX_LENGTH:
        raise UnsafeRegex("too_long")
    parser, constants = _parser()
    try:
        tree = parser.parse(source)
        compiled = re.compile(source, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        raise UnsafeRegex("invalid") from None
    _check_tree(tree, constants, inside_repeat=False)
    if compiled.fullmatch(""):
        raise UnsafeRegex("empty")
    return compiled


def _check_tree(tree, constants, *, inside_repeat: bool) -> None:
    for op, av in tree:
        if op in (constants.MAX_REPEAT, constants.MIN_REPEAT, getattr(constants, "POSSESSIVE_REPEAT", None)):
            low, high, sub = av
            if high == constants.MAXREPEAT or high > MAX_REPEAT:
                raise UnsafeRegex("unbounded")
            if inside_repeat:
                raise UnsafeRegex("nested")
            _check_tree(sub, constants, inside_repeat=True)
        elif op in (constants.GROUPREF, constants.GROUPREF_EXISTS):
            raise UnsafeRegex("backreference")
        elif op == constants.SUBPATTERN:
            _check_tree(av[-1], constants, inside_repeat=inside_repeat)
        elif op == constants.BRANCH:
            for branch in av[1]:
                _check_tree(branch, constants, inside_repeat=inside_repeat)
        elif op in (constants.ASSERT, constants.ASSERT_NOT):
            _check_tree(av[1], constants, inside_repeat=inside_repeat)
        elif op == getattr(constants, "ATOMIC_GROUP", None):
            _check_tree(av, constants, inside_repeat=inside_repeat)
