"""Text that cannot mislead: invisible, reordering and look-alike characters, and formulas.

Every string a reader sees is checked at one of three levels:

- NAME: names, keys, titles and labels (descriptors, CSV headers, record keys). Any control
  or format character is an error, tab and newline included.
- CELL: text cells of published tables. Errors, but tab, newline and carriage return are
  allowed inside a cell.
- FREE: fields that declare free text (``"civicgen": {"freeText": true}``), a collection's
  Markdown body and descriptions in descriptors. Reordering, invisible and look-alike
  characters are warnings; NUL and lone surrogates stay errors (they cannot be published).

Text cells starting with =, +, -, @, tab or carriage return are flagged (formula-cell, a
warning) and written with a leading apostrophe in published CSVs (see ``neutralise``).
Messages name characters as U+XXXX and never print them (see ``visible``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

from .errors import (
    BidiControlError,
    InvisibleCharacterError,
    LoneSurrogateError,
    MixedScriptError,
    NulByteError,
    TextError,
)

NAME, CELL, FREE = 0, 1, 2

BIDI = frozenset(
    chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
# Letters and marks that print as nothing, though not in the format category.
BLANK_LETTERS = "\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0"
BLANK = re.compile(f"[{BLANK_LETTERS}]")
CONTROL_NAMES = {
    "\x00": "NUL", "\x08": "BACKSPACE", "\t": "TAB", "\n": "LINE FEED", "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED", "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE", "\x7f": "DELETE",
}  # fmt: skip
FORMULA_START = frozenset("=+-@\t\r")
TEXT_TYPES = ("string", "any", "array", "object")  # fields whose cells are free text
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
FOREIGN = re.compile(
    "[\u0370-\u03ff\u1f00-\u1fff\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]"
)
WORD = re.compile(r"[^\W\d_]+")
# Cyrillic and Greek letters that look like Latin ones, and Latin letters with such twins.
LOOKALIKE_FOREIGN = frozenset("аеорсухіјѕԁԛԝһӏАВЕКМНОРСТХІЈЅУ" + "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοινρυκ")
LOOKALIKE_LATIN = frozenset("aceopxyijsABCEHIKMOPTXY")

FIXES = {
    BidiControlError: "it reorders how the text is displayed, so readers see something other "
    "than what is stored; delete it (retype the text by hand)",
    InvisibleCharacterError: "it cannot be seen, so two texts that look the same differ; "
    "delete it (retype the text by hand)",
    NulByteError: "it is not text and breaks the programs that read the file; delete it",
    LoneSurrogateError: "it is half of a UTF-16 pair, not a character (often from a "
    '"\\ud800"-style escape); write the character itself',
}


class Finding(NamedTuple):
    """One problem of one text: its error class, a sentence, and whether it is a warning."""

    error: type[TextError]
    note: str
    warning: bool = False


# --- characters --------------------------------------------------------------------------


@functools.cache
def suspect(level: int) -> re.Pattern[str]:
    """Control, format and blank characters, and surrogates; tab and newlines pass in cells."""
    allowed = "" if level == NAME else "\t\n\r"
    planes = (*range(0x20000), *range(0xE0000, 0xE0080))
    chars = [chr(c) for c in planes if unicodedata.category(chr(c)) in ("Cc", "Cf")]
    chars = [c for c in chars + list(BLANK_LETTERS) if c not in allowed]
    return re.compile("[" + "".join(map(re.escape, chars)) + "\ud800-\udfff]")


def code_point(char: str) -> str:
    """U+202E (RIGHT-TO-LEFT OVERRIDE): a character named without printing it."""
    if "\ud800" <= char <= "\udfff":
        name = "lone surrogate"
    else:
        name = CONTROL_NAMES.get(char, "") or unicodedata.name(char, "control character")
    return f"U+{ord(char):04X} ({name})"


def visible(text: str) -> str:
    """Text safe to print: every control, format or surrogate character as <U+XXXX>."""
    if text.isascii() and text.isprintable():
        return text
    return suspect(NAME).sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def kind_of(char: str) -> type[TextError]:
    if char == "\x00":
        return NulByteError
    if "\ud800" <= char <= "\udfff":
        return LoneSurrogateError
    return BidiControlError if char in BIDI else InvisibleCharacterError


def plainly_printable(text: str, level: int) -> bool:
    """True when no character can be suspect: a fast test, in C, before the regex."""
    if level != NAME:
        text = text.replace("\n", "").replace("\t", "").replace("\r", "")
    return text.isprintable() and not BLANK.search(text)


def char_findings(text: str, level: int) -> list[Finding]:
    """The first character of each kind that must not be there."""
    if plainly_printable(text, level):
        return []  # str.isprintable() is False for every control, format and surrogate
    found: dict[type[TextError], Finding] = {}
    for match in suspect(level).finditer(text):
        kind = kind_of(match.group())
        if kind not in found:
            warning = level == FREE and kind in (BidiControlError, InvisibleCharacterError)
            note = f"{code_point(match.group())} at character {match.start() + 1}: {FIXES[kind]}"
            found[kind] = Finding(kind, note, warning)
    return list(found.values())


@functools.cache
def script(char: str) -> str:
    """LATIN, CYRILLIC, GREEK or another word, from the character's Unicode name."""
    return unicodedata.name(char, "?").split(" ", 1)[0]


def deceptive(word: str) -> bool:
    """A word mixing Latin with Cyrillic or Greek letters that look like each other."""
    latin = [c for c in word if script(c) == "LATIN"]
    foreign = [c for c in word if script(c) in ("CYRILLIC", "GREEK")]
    if not latin or not foreign:
        return False
    if any(c in LOOKALIKE_FOREIGN for c in foreign):
        return True
    return len(foreign) > len(latin) and any(c in LOOKALIKE_LATIN for c in latin)


def marked(word: str) -> str:
    """The word with its minority letters named, e.g. Educ<U+0430 CYRILLIC SMALL LETTER A>tion."""
    latin = sum(script(c) == "LATIN" for c in word)
    odd = ("LATIN",) if latin * 2 < len(word) else ("CYRILLIC", "GREEK")
    return "".join(
        f"<U+{ord(c):04X} {unicodedata.name(c, '?')}>" if script(c) in odd else c for c in word
    )


def script_findings(text: str, level: int) -> list[Finding]:
    if not FOREIGN.search(text):
        return []
    for word in WORD.findall(text):
        if deceptive(word):
            note = (
                f'the word "{visible(marked(word))}" mixes Latin letters with Cyrillic or Greek '
                "letters that look the same, so it reads as one word but is another; retype it "
                "in one alphabet"
            )
            return [Finding(MixedScriptError, note, level == FREE)]
    return []


def findings(text: str, level: int) -> list[Finding]:
    """Every way this text can mislead a reader (empty for plain printable ASCII)."""
    if text.isascii() and text.isprintable():
        return []
    return char_findings(text, level) + script_findings(text, level)


# --- spreadsheet formulas ------------------------------------------------------------------


def is_formula(value: str) -> bool:
    """A text cell a spreadsheet would run: it starts with = + - @ tab or CR and is no number."""
    return bool(value) and value[0] in FORMULA_START and not NUMBER.fullmatch(value)


def neutralise(value: str) -> str:
    """The OWASP convention: a leading apostrophe makes a spreadsheet show the cell as text."""
    return "'" + value if is_formula(value) else value
