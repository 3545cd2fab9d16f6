"""Stored text made safe for the exports that Excel and browsers open (pure).

Whatever the service stored (names typed before control characters were refused, a
caller's name chosen to attack the reader), every export must open, show the text,
and run nothing:
- control characters, which XML 1.0 (and so XLSX) forbids and which no reader
  means, are dropped; a lone surrogate, which UTF-8 cannot carry, becomes U+FFFD;
- a text cell that a spreadsheet would read as a formula (OWASP, "CSV Injection": one
  starting with =, +, -, @, tab or carriage return) is marked as text: in CSV with a
  leading apostrophe, as OWASP advises; in XLSX as a string cell with the quote-prefix
  style, which is the same mark in the file format itself (the text shows unchanged).
"""

from __future__ import annotations

import re

# C0 controls but tab, newline and carriage return; DEL and the C1 controls; the two
# non-characters XML forbids.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """`text` without control characters, lone surrogates replaced."""
    text = _CONTROL.sub("", text)
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would take this text cell for a formula."""
    return text.startswith(FORMULA_START)


def csv_text(text: str) -> str:
    """A text cell for CSV: cleaned, and a would-be formula prefixed with an apostrophe."""
    text = clean(text)
    return "'" + text if is_formula_like(text) else text
