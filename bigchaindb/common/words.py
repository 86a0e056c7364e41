"""Words of asset and metadata data, as search finds them (``GET /assets?search=``).

A word is a run of letters and digits (any script), case-folded after NFKC
normalisation; everything else separates words.  The words of a document
are those of every string value in it, at any depth (keys are not
searched).  Both engines index exactly these words, so that a search
answers alike on each: SQLite's FTS5 is given them space-separated
(and splits them back the same way), RethinkDB stores one row per word.
"""

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")

LONGEST_WORD = 64
"""Characters of a word that are indexed and searched; a longer one is cut to its first 64."""

INDEXED_WORDS = 1000
"""Distinct words of one document that are indexed: its first 1000, in
document order.  A body may hold a megabyte of distinct words; indexing all
of them would cost an engine far more than storing the transaction."""


def words(text):
    """The distinct words of ``text``, in order of first appearance."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return list(dict.fromkeys(word[:LONGEST_WORD] for word in _WORD.findall(text)))


def words_in(data):
    """The first ``INDEXED_WORDS`` distinct words of the string values in ``data``
    (JSON-like values), in document order (objects in key order), depth first."""
    found, pending = {}, [data]
    while pending and len(found) < INDEXED_WORDS:
        value = pending.pop()
        if isinstance(value, str):
            found.update(dict.fromkeys(words(value)))
        elif isinstance(value, dict):
            pending.extend(reversed(value.values()))
        elif isinstance(value, list):
            pending.extend(reversed(value))
    return list(found)[:INDEXED_WORDS]
