"""The screening form: the text as a reader sees it (invisible characters
dropped, look-alike digits and stops made ASCII, and the display order when
bidirectional controls change it).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

# One-for-one replacements, the last step of the screening form (see
# _fold): exotic spaces (and the blank braille cell, used as an invisible
# space) become spaces, line and paragraph separators newlines, dashes "-",
# full-width digits and "@" ASCII, so that every pattern below can be
# compiled with re.ASCII. Invisible characters are not here: _fold drops
# them, so "555\u200b867\u200b5309" reads as the reader sees it.
_NORMALISE = {
    **dict.fromkeys(map(ord, "\u00a0\u1680\u202f\u205f\u3000\u2800"), " "),
    **dict.fromkeys(range(0x2000, 0x200B), " "),
    **dict.fromkeys(map(ord, "\u0085\u2028\u2029"), "\n"),
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-"),
    **{0xFF10 + i: str(i) for i in range(10)},
    0xFF20: "@",
    0x2019: "'",
    0x2018: "'",
}

# --------------------------------------------------------------------------
# The screening form: the text as a reader sees it
# --------------------------------------------------------------------------
#
# An author can write an identifier so that a reader still reads it but a
# pattern does not: soft hyphens and zero-width characters inside a number,
# Arabic-Indic or Devanagari digits, full-width letters, "maria@gmail。com",
# a right-to-left override that makes "9035-768-555" display as
# "555-867-5309". So the detectors read a folded copy of the text
# (:func:`_fold`):
#
# * invisible characters are dropped: format characters (Unicode category
#   Cf: soft hyphen, zero-width space/joiner/non-joiner, word joiner, BOM,
#   bidirectional controls...), the other default-ignorable code points
#   (variation selectors, Hangul fillers...), and control characters other
#   than tab and line breaks (``core.text`` drops them from what it shows);
# * each cluster (a character and the combining marks after it) is put in
#   NFKC form: full-width and mathematical letters and digits, "＠", "．",
#   superscripts and ligatures become their plain forms;
# * any decimal digit (category Nd: Arabic-Indic, Devanagari, Bengali...)
#   becomes its ASCII digit, and the full stops of other scripts "."; a
#   combining mark on anything but a letter ("5\u20e3", "5\u0301") is dropped;
# * _NORMALISE's one-for-one replacements (spaces, dashes, quotes).
#
# The folded text can be shorter or longer than the original, so _fold keeps,
# for each folded character, the span of the original it came from, and scan
# maps every finding back: offsets always point into the original text, so
# redaction and highlighting work on what the author wrote.
#
# Display order is a second matter. A right-to-left override, or just a
# right-to-left letter or mark before some digits, makes a browser show
# characters in another order than they are stored. When a text holds any
# character that can do that, scan also reads the order a reader sees, in a
# left-to-right and in a right-to-left paragraph (:func:`_visual_order`, the
# Unicode Bidirectional Algorithm with the simplifications listed there).
#
# Cost: plain ASCII (nearly every post) is read as it is, after one check
# for control characters. Other text is searched for the characters that can
# reorder it and for those _fold cannot replace one for one (two compiled
# character classes, built on first use); the others (digits, full-width
# letters, exotic spaces) go through one str.translate, which keeps every
# offset. Only runs of the rest are folded cluster by cluster, and only text
# that can reorder is read in display order.

# Full stops of other scripts a reader takes for "." in an address (NFKC
# already maps "．", "｡", "﹒" and "︒" to "." or "。").
_FULL_STOPS = frozenset("\u3002\u06d4\u0701\u0702\u1362\u166e\u1803\u1809\u2e3c\ua4ff\ua60e\ua6f3\uff61")
# Default-ignorable code points that are not format characters: invisible,
# so dropped like them.
_IGNORABLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0"
    + "".join(map(chr, range(0x180B, 0x1810)))
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
_KEPT_CONTROLS = frozenset("\t\n\r")
# Bidirectional classes that can make a text display in another order than it
# is stored: right-to-left letters and numbers, embeddings, overrides, isolates.
_BIDI_REORDERING = frozenset(("R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"))
# Printable ASCII, tab and line breaks: a text of these only is read as it is.
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r"
# Where the ranges of characters _fold treats live: every format, control,
# mark, digit and right-to-left character, and every character NFKC changes
# other than CJK compatibility ideographs (which stay ideographs), is in
# planes 0, 1 and 14. tests/core/test_phi.py checks the other planes.
_FOLD_PLANES = (range(0x0, 0x20000), range(0xE0000, 0xE1000))


def _ignorable(char: str) -> bool:
    """Invisible: a format character, a control (not tab or a line break) or another default-ignorable."""
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and char not in _KEPT_CONTROLS) or char in _IGNORABLE


def _changes(char: str) -> bool:
    """Whether _fold changes ``char`` beyond _NORMALISE's one-for-one replacements."""
    if ord(char) in _NORMALISE:
        return False
    category = unicodedata.category(char)
    return (
        _ignorable(char)
        or category[0] == "M"
        or (category == "Nd" and not "0" <= char <= "9")
        or char in _FULL_STOPS
        or unicodedata.normalize("NFKC", char) != char
    )


def _reorders(char: str) -> bool:
    """Whether ``char`` can make a text display in another order than it is stored."""
    return unicodedata.bidirectional(char) in _BIDI_REORDERING


def _character_class(code_points: Iterable[int]) -> str:
    """A regular-expression character class for sorted code points, as ranges."""
    parts = []
    for _, group in itertools.groupby(enumerate(code_points), lambda pair: pair[1] - pair[0]):
        run = [cp for _, cp in group]
        first, last = re.escape(chr(run[0])), re.escape(chr(run[-1]))
        parts.append(first if len(run) == 1 else f"{first}-{last}")
    return "[" + "".join(parts) + "]"


class _FoldTables(NamedTuple):
    one_for_one: dict[int, str]  # folds to one character (a digit, a full-width letter...): str.translate
    slow: re.Pattern[str]  # runs of characters folded in context (invisible, marks, expansions)
    reorders: re.Pattern[str]  # any character that can change the display order


@functools.cache
def _fold_tables() -> _FoldTables:
    """Built on first use (a tenth of a second): a process that never scans
    non-ASCII text does not need them."""
    table = dict(_NORMALISE)
    slow, reorders = [], []
    for plane in _FOLD_PLANES:
        for cp in plane:
            char = chr(cp)
            if _reorders(char):
                reorders.append(cp)
            if not _changes(char):
                continue
            folded, marked = _fold_cluster(char)
            if len(folded) == 1 and not marked and not unicodedata.combining(char):
                table[cp] = folded
            else:
                slow.append(cp)
    return _FoldTables(table, re.compile(_character_class(slow) + "+"), re.compile(_character_class(reorders)))


class _Folded(NamedTuple):
    """The screening form of a text: ``work`` and, unless it is ``text``
    itself character for character, the ``starts[i]:ends[i]`` span of the
    original that ``work[i]`` comes from."""

    work: str
    starts: list[int] | None
    ends: list[int] | None
    reorders: bool  # holds characters that can change the display order


@functools.lru_cache(maxsize=4096)
def _fold_cluster(cluster: str) -> tuple[str, bool]:
    """A character and its combining marks, folded; and whether the result
    holds a mark (which _fold keeps only on a letter)."""
    visible = "".join(c for c in cluster if not _ignorable(c))
    if not visible:
        return "", False
    folded = []
    for char in unicodedata.normalize("NFKC", visible):
        if char > "\x7f":
            if char in _FULL_STOPS:
                char = "."
            elif unicodedata.category(char) == "Nd":
                char = str(unicodedata.decimal(char))
        folded.append(char)
    result = "".join(folded)
    return result, any(unicodedata.category(c) in ("Mn", "Me") for c in result)


def _plain(text: str) -> bool:
    """Printable ASCII, tabs and line breaks only: nothing to fold, nothing to reorder."""
    # Deleting the plain bytes is several times faster than searching for the others.
    return text.isascii() and not text.encode("ascii").translate(None, _PLAIN_BYTES)


def _fold(text: str) -> _Folded:
    """The text the detectors read (see above), with the way back to ``text``.

    Characters that fold to one character (digits, full-width letters, full
    stops, _NORMALISE's) are replaced by one ``str.translate``, which keeps
    every offset; only the runs of the others (invisible characters, marks,
    characters NFKC expands) are folded cluster by cluster.
    """
    if _plain(text):
        return _Folded(text, None, None, False)
    tables = _fold_tables()
    reordering = tables.reorders.search(text) is not None
    runs = tables.slow.finditer(text)
    first = next(runs, None)
    if first is None:
        return _Folded(text.translate(tables.one_for_one), None, None, reordering)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    last = ""  # the last character put in the folded text
    combining = unicodedata.combining
    for run in itertools.chain((first,), runs):
        start, end = run.span()
        if start > pos and combining(text[start]):
            start -= 1  # a mark belongs to the character before it: fold them together
        if start > pos:
            pieces.append(text[pos:start])
            starts.extend(range(pos, start))
            ends.extend(range(pos + 1, start + 1))
            last = text[start - 1]
        i = start
        while i < end:
            j = i + 1
            while j < end and combining(text[j]):
                j += 1
            folded, marked = _fold_cluster(text[i:j])
            if marked:
                for char in folded:
                    if unicodedata.category(char) in ("Mn", "Me") and not last.isalpha():
                        continue  # a mark on a digit or a symbol: "5\u20e3" reads "5"
                    pieces.append(char)
                    starts.append(i)
                    ends.append(j)
                    last = char
            elif folded:
                pieces.append(folded)
                starts.extend([i] * len(folded))
                ends.extend([j] * len(folded))
                last = folded[-1]
            i = j
        pos = end
    if pos < len(text):
        pieces.append(text[pos:])
        starts.extend(range(pos, len(text)))
        ends.extend(range(pos + 1, len(text) + 1))
    return _Folded("".join(pieces).translate(tables.one_for_one), starts, ends, reordering)


# The Unicode Bidirectional Algorithm (UAX #9), as far as it decides where a
# character is displayed. Simplified: no bracket pairs (N0), level runs stand
# for isolating run sequences, an FSI looks for the first strong character
# after it without skipping nested isolates, and a paragraph is one line. A
# reader's browser may therefore differ in rare cases; the aim is to see
# what an author arranged to be seen.

_MAX_DEPTH = 125
_NEUTRAL = frozenset(("B", "S", "WS", "ON", "LRI", "RLI", "FSI", "PDI"))
_MIRRORED = {ord(a): b for a, b in zip("()[]{}<>«»‹›", ")(][}{><»«›‹", strict=True)}


def _bidi_class(char: str) -> str:
    return unicodedata.bidirectional(char) or "L"


def _explicit_levels(classes: list[str], base: int) -> tuple[list[int], list[str], list[bool]]:
    """Rules X1-X9: the embedding level of each character, its type after
    overrides, and whether X9 removes it (embedding controls, BN)."""
    n = len(classes)
    levels, types, removed = [base] * n, list(classes), [False] * n
    next_strong = ["L"] * (n + 1)  # for FSI: the first strong class after each position
    for i in range(n - 1, -1, -1):
        next_strong[i] = classes[i] if classes[i] in ("L", "R", "AL") else next_strong[i + 1]
    stack = [(base, "", False)]  # (level, override "L"/"R"/"", isolate)
    overflow_isolates = overflow_embeddings = valid_isolates = 0
    for i, kind in enumerate(classes):
        level, override, _ = stack[-1]
        if kind in ("RLE", "LRE", "RLO", "LRO"):
            removed[i] = True
            levels[i] = level
            new = (level + 1) | 1 if kind[0] == "R" else (level + 2) & ~1
            if new <= _MAX_DEPTH and not overflow_isolates and not overflow_embeddings:
                stack.append((new, kind[0] if kind[2] == "O" else "", False))
            elif not overflow_isolates:
                overflow_embeddings += 1
        elif kind in ("RLI", "LRI", "FSI"):
            levels[i] = level
            if override:
                types[i] = override
            rtl = kind == "RLI" or (kind == "FSI" and next_strong[i + 1] in ("R", "AL"))
            new = (level + 1) | 1 if rtl else (level + 2) & ~1
            if new <= _MAX_DEPTH and not overflow_isolates and not overflow_embeddings:
                valid_isolates += 1
                stack.append((new, "", True))
            else:
                overflow_isolates += 1
        elif kind == "PDI":
            if overflow_isolates:
                overflow_isolates -= 1
            elif valid_isolates:
                overflow_embeddings = 0
                while not stack[-1][2]:
                    stack.pop()
                stack.pop()
                valid_isolates -= 1
            level, override, _ = stack[-1]
            levels[i] = level
            if override:
                types[i] = override
        elif kind == "PDF":
            removed[i] = True
            levels[i] = level
            if overflow_isolates:
                pass
            elif overflow_embeddings:
                overflow_embeddings -= 1
            elif not stack[-1][2] and len(stack) > 1:
                stack.pop()
        elif kind == "B":
            levels[i] = base
        elif kind == "BN":
            removed[i] = True
            levels[i] = level
        else:
            levels[i] = level
            if override:
                types[i] = override
    return levels, types, removed


def _resolve_run(types: list[str], seq: list[int], sos: str, eos: str, level: int) -> None:
    """Rules W1-W7 and N1-N2 on one level run (``seq``: its positions)."""
    prev = sos
    for k in seq:  # W1
        if types[k] == "NSM":
            types[k] = "ON" if prev in ("LRI", "RLI", "FSI", "PDI") else prev
        prev = types[k]
    strong = sos
    for k in seq:  # W2, W3
        kind = types[k]
        if kind in ("L", "R", "AL"):
            strong = kind
            if kind == "AL":
                types[k] = "R"
        elif kind == "EN" and strong == "AL":
            types[k] = "AN"
    for a, b, c in zip(seq, seq[1:], seq[2:], strict=False):  # W4
        if types[b] == "ES" and types[a] == types[c] == "EN":
            types[b] = "EN"
        elif types[b] == "CS" and types[a] == types[c] and types[a] in ("EN", "AN"):
            types[b] = types[a]
    m = len(seq)
    x = 0
    while x < m:  # W5, W6
        if types[seq[x]] != "ET":
            if types[seq[x]] in ("ES", "CS"):
                types[seq[x]] = "ON"
            x += 1
            continue
        y = x
        while y < m and types[seq[y]] == "ET":
            y += 1
        joined = (x and types[seq[x - 1]] == "EN") or (y < m and types[seq[y]] == "EN")
        for z in range(x, y):
            types[seq[z]] = "EN" if joined else "ON"
        x = y
    strong = sos
    for k in seq:  # W7
        if types[k] in ("L", "R"):
            strong = types[k]
        elif types[k] == "EN" and strong == "L":
            types[k] = "L"
    embedding = "R" if level % 2 else "L"
    x = 0
    while x < m:  # N1, N2
        if types[seq[x]] not in _NEUTRAL:
            x += 1
            continue
        y = x
        while y < m and types[seq[y]] in _NEUTRAL:
            y += 1
        before = sos if x == 0 else ("L" if types[seq[x - 1]] == "L" else "R")
        after = eos if y == m else ("L" if types[seq[y]] == "L" else "R")
        direction = before if before == after else embedding
        for z in range(x, y):
            types[seq[z]] = direction
        x = y


def _paragraph_levels(classes: list[str], base: int) -> list[int]:
    """The resolved level of each character of one paragraph (X1-I2, L1)."""
    n = len(classes)
    levels, types, removed = _explicit_levels(classes, base)
    explicit = levels[:]
    kept = [i for i in range(n) if not removed[i]]
    x = 0
    while x < len(kept):
        y = x
        level = explicit[kept[x]]
        while y < len(kept) and explicit[kept[y]] == level:
            y += 1
        before = explicit[kept[x - 1]] if x else base
        after = explicit[kept[y]] if y < len(kept) else base
        seq = kept[x:y]
        _resolve_run(types, seq, "R" if max(level, before) % 2 else "L", "R" if max(level, after) % 2 else "L", level)
        for k in seq:  # I1, I2
            kind = types[k]
            if level % 2 == 0:
                levels[k] += 1 if kind == "R" else 2 if kind in ("AN", "EN") else 0
            elif kind in ("L", "EN", "AN"):
                levels[k] += 1
        x = y
    # L1: separators, and whitespace before them or at the end, at the paragraph level.
    trailing = True
    for i in range(n - 1, -1, -1):
        kind = classes[i]
        if kind in ("S", "B"):
            levels[i] = base
            trailing = True
        elif trailing and (kind in ("WS", "LRI", "RLI", "FSI", "PDI") or removed[i]):
            levels[i] = base
        else:
            trailing = False
    for i in range(n):  # removed characters take their neighbour's level (they are dropped anyway)
        if removed[i] and classes[i] not in ("S", "B"):
            levels[i] = levels[i - 1] if i else base
    return levels


def _reorder(levels: list[int], offset: int) -> list[int]:
    """Rule L2: the positions (plus ``offset``) in display order. A run of
    levels at least k is reversed once for every k from the highest level
    down to the lowest odd level. With few levels that is done as written;
    with many (deep nesting), a tree of nested runs counts how often each is
    reversed, so that an author cannot buy a pass over the text per level."""
    odd = [level for level in levels if level % 2]
    if not odd:
        return list(range(offset, offset + len(levels)))
    lowest, highest = min(odd), max(levels)
    if highest - lowest < 8:
        # Few passes (nearly every text): reverse the runs of two characters
        # or more that each pass finds, at the speed of slicing.
        order = list(range(offset, offset + len(levels)))
        data = bytes(levels)
        for level in range(highest, lowest - 1, -1):
            for run in re.finditer(b"[" + re.escape(bytes((level,))) + b"-\x7f]{2,}", data):
                a, b = run.span()
                order[a:b] = order[a:b][::-1]
        return order
    # A node: [level, parent level, children]; a child is a node or a (start, end) run.
    root: list = [-1, -1, []]
    stack = [root]
    i, n = 0, len(levels)
    while i < n:
        j = i
        while j < n and levels[j] == levels[i]:
            j += 1
        level = levels[i]
        popped = None
        while stack[-1][0] > level:
            popped = stack.pop()
        if stack[-1][0] < level:
            node = [level, stack[-1][0], []]
            if popped is not None:
                stack[-1][2].pop()
                popped[1] = level
                node[2].append(popped)
            stack[-1][2].append(node)
            stack.append(node)
        stack[-1][2].append((i + offset, j + offset))
        i = j
    order: list[int] = []

    def emit(node: list, flipped: bool) -> None:
        level, parent, children = node
        reversals = level - max(parent + 1, lowest) + 1
        if reversals > 0 and reversals % 2:
            flipped = not flipped
        for child in reversed(children) if flipped else children:
            if child.__class__ is tuple:
                order.extend(range(child[1] - 1, child[0] - 1, -1) if flipped else range(*child))
            else:
                emit(child, flipped)

    emit(root, False)
    return order


def _visual_order(text: str, base: int) -> tuple[list[int], list[int]]:
    """The positions of ``text`` in the order a reader sees them in a
    paragraph of direction ``base`` (0 left-to-right, 1 right-to-left), and
    the resolved level of each position."""
    classes = [_bidi_class(c) for c in text]
    order: list[int] = []
    levels: list[int] = []
    start = 0
    # Each paragraph on its own; its separator stays at its end. A paragraph
    # without a character that reorders is read in place.
    for end in itertools.chain((i for i, kind in enumerate(classes) if kind == "B"), (len(text),)):
        if end > start and any(kind in _BIDI_REORDERING for kind in classes[start:end]):
            paragraph = _paragraph_levels(classes[start:end], base)
            order += _reorder(paragraph, start)
            levels += paragraph
        elif end > start:
            order += range(start, end)
            levels += [0] * (end - start)  # nothing reversed, nothing mirrored
        if end < len(text):
            order.append(end)
            levels.append(base)
        start = end + 1
    return order, levels


def _visual_texts(text: str) -> Iterable[tuple[str, list[int]]]:
    """``text`` as displayed in a left-to-right and in a right-to-left
    paragraph (mirrored brackets included), each with its display order,
    when that differs from the stored order."""
    seen = set()
    for base in (0, 1):
        order, levels = _visual_order(text, base)
        shown = "".join(text[k].translate(_MIRRORED) if levels[k] % 2 else text[k] for k in order)
        if shown != text and shown not in seen:
            seen.add(shown)
            yield shown, order
