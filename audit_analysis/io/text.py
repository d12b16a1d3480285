"""Small text normalisations shared by every reader (docs/data-contract.md's matching rules)."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

from audit_analysis.io.workbooks import clean_excerpt

__all__ = [
    "EXCERPT_CHARS",
    "cell_text",
    "excerpt",
    "header_key",
    "identifier_key",
    "is_blank",
    "lookalike_key",
    "scripts",
    "label_key",
    "name_key",
    "nfc",
    "or_list",
    "printable",
]


#: The longest excerpt of a cell a rejection message quotes.
EXCERPT_CHARS = 200

_SPACES = re.compile(r"\s+")
_HEADER_GAPS = re.compile(r"[\s_]+")


def nfc(text: str) -> str:
    """``text`` in Unicode normal form C: ``Zoe`` with a combining diaeresis and ``Zoë``
    typed as one character are one text. Every key (a case reference, a header, an
    agency, a label) is compared in this form, and every CSV cell is read in it."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", text)


def is_blank(value: object) -> bool:
    """True for None, NaN, and strings holding only whitespace (non-breaking too)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()  # str.strip() removes non-breaking spaces too
    return isinstance(value, float) and math.isnan(value)


def cell_text(value: object) -> str:
    """A cell as the text a person sees: whole floats lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def header_key(value: object) -> str:
    """Header names match ignoring case, spaces and underscores (``CareFirst ID``)."""
    if isinstance(value, str):
        return _header_key_text(value)
    return _header_key_text(cell_text(value))


@lru_cache(maxsize=4096)
def _header_key_text(text: str) -> str:
    return _HEADER_GAPS.sub("", nfc(text).replace("\xa0", " ").strip().casefold())


def label_key(value: object) -> str:
    """Header-block labels: case-insensitive, trailing colon ignored, spaces collapsed."""
    if isinstance(value, str):
        return _label_key_text(value)
    return _label_key_text(cell_text(value))


@lru_cache(maxsize=4096)
def _label_key_text(text: str) -> str:
    text = nfc(text).replace("\xa0", " ").strip().casefold()
    text = text.rstrip(":").strip()
    return _SPACES.sub(" ", text)


def identifier_key(value: object) -> str:
    """Case identifiers match as text, ignoring case and surrounding spaces;
    a whole number Excel stored as ``100231.0`` is ``100231``."""
    text = nfc(cell_text(value)).replace("\xa0", " ").strip()
    if re.fullmatch(r"[+-]?\d+\.0+", text):
        text = text.split(".")[0]
    return text.casefold()


def name_key(value: object) -> str:
    """Agency names match ignoring case and surrounding spaces."""
    return _SPACES.sub(" ", nfc(cell_text(value)).replace("\xa0", " ").strip()).casefold()


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, clean excerpt of ``text`` to quote in a rejection: control and other
    unprintable characters escaped (``\\x1b``, ``\\n``), at most ``limit`` characters."""
    if len(text) <= limit and text.isprintable():
        return text
    return clean_excerpt(text, limit)


def printable(text: str, keep_newlines: bool = True) -> str:
    """``text`` safe to print to a terminal: every control character (escape sequences
    included), invisible format character and lone surrogate is escaped, so a file name
    or a cell cannot move the cursor, recolour the screen or reorder the line."""
    if text.isprintable():
        return text
    if keep_newlines:
        return "\n".join(printable(line, False) for line in text.split("\n"))
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


# Letters of other scripts drawn like a Latin letter (after casefolding): enough to catch
# a reference typed on a Cyrillic or Greek keyboard layout.
_LOOKALIKES = str.maketrans(
    "авеікмнорстухѕјԁԛԝαβεηικμνορτυχζ",
    "abeikmhopctyxsjdqwabehikmvoptuxz",
)


def lookalike_key(text: str) -> str:
    """What ``text`` looks like: compatibility forms folded (fullwidth ``Ｃ`` is ``C``),
    case ignored and Cyrillic or Greek letters drawn like Latin ones read as those.
    Two different texts with one key are easily taken for each other."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKES)


def scripts(text: str) -> set[str]:
    """The scripts of ``text``'s letters (``LATIN``, ``CYRILLIC``, ``GREEK``...; a
    fullwidth letter is ``FULLWIDTH``), from their Unicode names."""
    found = set()
    for ch in text:
        if ch.isalpha() and not ch.isascii():
            found.add(unicodedata.name(ch, "UNKNOWN").split(" ")[0])
        elif ch.isalpha():
            found.add("LATIN")
    return found


def or_list(items: list[str]) -> str:
    """``a``; ``a or b``; ``a, b or c``: the words a message or sentence offers."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
