"""RTTM pieces read in bulk from their bytes, with numpy and no Python object per token.

``read_piece`` takes a piece of text that ends at a line end and reads it only if it
has the plainest shape: every line a SPEAKER line of 9 or 10 fields separated by
single spaces, ending in a bare newline, with each onset and duration an ASCII
decimal of digits and at most one point (``12.345``, ``7``, ``.5``), at most 15
digits and 16 characters. Anything else (tabs, runs of spaces, CRLF, comments,
exponents, signs, long numbers, ...) returns None, and the
token reader of ``teer.io.rttm`` reads the piece instead, naming any bad line.

How, in a few array operations per piece:

- the separators are the bytes at or below the space; with exactly ``width`` per
  line, the last of them a newline and every other a space, field ``k`` of line
  ``i`` starts one byte after separator ``i * width + k - 1``;
- a token is read as the 8-byte words at its start (one unaligned ``uint64`` view
  of the text), masked to its length: a label of up to 8 bytes is one word, so
  comparing words compares labels, and a number of up to 16 characters is two;
- numbers are parsed within those words (SWAR: SIMD within a register): the bytes
  are checked to be digits and one point, the point's byte is taken out, and the
  digits of a word become an integer by three multiplications. The value in ticks
  (``teer.ticks``: ns) is then ``mantissa * 10 ** (9 - fraction_digits)``, exactly;
  a number with more than 9 digits after the point, or beyond the largest time, is
  left to the token reader;
- labels are sorted as words, only on the rows that differ from the row above, and
  Python sees each distinct label of a piece once.
"""
from __future__ import annotations

import numpy as np

from .. import ticks
from ..segments import Vocab

# Column positions in a SPEAKER line (as teer.io.rttm).
_FILE, _ONSET, _DUR, _EMOTION, _SPEAKER = 1, 3, 4, 5, 7
#: zero bytes after a piece's text, so that every word read at a token start (up to
#: 16 bytes for a number, 8 past a label's last word start) lies inside the buffer
_PAD = 16
_SPEAKER_WORD = int.from_bytes(b"SPEAKER", "little")
_U64 = np.dtype("<u8")


def _word(byte: int) -> np.uint64:
    return np.uint64(int.from_bytes(bytes([byte]) * 8, "little"))


_HIGH, _LOW7, _ZEROS, _POINTS = _word(0x80), _word(0x7F), _word(0x30), _word(0x2E)
#: added to a byte of at most 0x7F, sets its high bit iff it is above 9 (no carry out)
_ABOVE_NINE = _word(0x76)
_LOW_BITS = _word(0x01)
_ONE, _THREE, _SEVEN, _EIGHT, _FIFTY_SIX, _BYTE = (np.uint64(k) for k in (1, 3, 7, 8, 56, 0xFF))
#: 2**64 / golden ratio: multiplying by it spreads words over the high bits (Fibonacci hashing)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
#: MASK[k]: the low k bytes of a word
_MASK = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_POW10_INT = 10 ** np.arange(17, dtype=np.uint64)
#: a label column learns short labels until it knows this many (speakers and emotions
#: are few; short file ids of a large corpus need not all be kept and re-sorted)
_KNOWN = 1 << 12
#: at most this many digits (the mantissa of one 16-character token)
_MAX_DIGITS = 15


def read_piece(piece: bytes, columns: tuple[LabelColumn, LabelColumn, LabelColumn]):
    """(onsets, durations, (file, speaker, emotion) codes) of ``piece`` (text ending at a
    line end), the labels coded by ``columns``; None where the piece is not of the
    plainest shape (see the module's docstring)."""
    n = len(piece)
    buf = piece + bytes(_PAD)
    text = np.frombuffer(buf, np.uint8)
    separator = np.flatnonzero(text[:n] <= 32)
    kinds = text[separator]
    newline = kinds == 10
    lines = int(np.count_nonzero(newline))
    if lines == 0 or len(separator) % lines:
        return None
    width = len(separator) // lines
    # exactly `width` separators per line: the last the newline, the others spaces
    if (width not in (9, 10) or np.count_nonzero(kinds == 32) != len(separator) - lines
            or not newline[width - 1::width].all()):
        return None
    ends = separator.reshape(lines, width)
    starts = np.empty_like(ends)
    starts.reshape(-1)[0] = 0
    starts.reshape(-1)[1:] = separator[:-1] + 1
    length = ends - starts
    if not (length > 0).all():  # two separators in a row, or a line starting with one
        return None
    words = np.ndarray((len(buf) - 7,), _U64, buf, 0, (1,))
    if not ((length[:, 0] == 7).all() and ((words[starts[:, 0]] & _MASK[7]) == _SPEAKER_WORD).all()):
        return None
    # onsets and durations side by side in one call (half the calls, each on twice the rows)
    times = _numbers(words, starts[:, _ONSET:_DUR + 1].T.reshape(-1), length[:, _ONSET:_DUR + 1].T.reshape(-1))
    if times is None:
        return None
    onset, duration = times[:lines], times[lines:]
    codes = [column.codes(buf, words, starts[:, k], length[:, k])
             for column, k in zip(columns, (_FILE, _SPEAKER, _EMOTION))]
    return onset, duration, codes


def _zero_bytes(x: np.ndarray) -> np.ndarray:
    """The high bit of each byte of ``x`` that is zero (exactly: no borrow between bytes)."""
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7)


def _numbers(words: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray | None:
    """The decimals of up to 16 characters at ``start``, or None if any is not one."""
    longest = int(length.max())
    if longest > 16:
        return None
    n = len(start)
    mantissa, fraction, digits = np.zeros(n, np.uint64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    bad, seen_point = np.zeros(n, np.uint64), np.zeros(n, bool)
    # each word's digits are read on their own and appended to the digits of the words before it
    for word, size in _token_words(words, start, length, longest):
        inside = _MASK[size]
        point = _zero_bytes(word ^ _POINTS) & inside  # the high bit of a "." byte
        flag = point >> _SEVEN  # the point's lowest bit (0: no point)
        # digits become their values, the point 0; any other byte stays above 9
        digit = (word ^ _ZEROS) & (inside & ~(flag * _BYTE))
        bad |= (digit | (digit + _ABOVE_NINE)) & _HIGH | (point & (point - _ONE))
        has_point = flag != 0
        bad |= (seen_point & has_point).view(np.uint8)  # a point in each word
        # the point's byte taken out: the bytes above it move down one
        below = flag - _ONE  # the bytes before the point (all where there is none)
        packed = (digit & below) | ((digit >> _EIGHT) & ~below)
        count = size - has_point
        before = _byte_count(below & inside)  # all of the token's bytes where no point
        value = _eight_digits(packed << (np.minimum(8 - count, 7).astype(np.uint64) << _THREE))
        mantissa = mantissa * _POW10_INT[count] + value
        fraction += seen_point * count + (count - before)
        seen_point |= has_point
        digits += count
    if (bad.any() or (digits == 0).any() or (digits > _MAX_DIGITS).any() or (fraction > ticks.DIGITS).any()
            or (digits - fraction > 10).any()):
        return None
    # at most 10 digits before the point and 9 after it: below 10**19 < 2**64 ticks
    value = mantissa * _POW10_INT[ticks.DIGITS - fraction]
    if (value > np.uint64(ticks.MAX_TICKS)).any():
        return None
    return value.astype(np.int64)


def _token_words(words: np.ndarray, start: np.ndarray, length: np.ndarray, longest: int):
    """For each 8 bytes of the tokens at ``start`` (of ``length`` bytes, at most ``longest``):
    the words there, masked to the tokens, and how many of the tokens' bytes each holds."""
    for offset in range(0, longest, 8):
        size = np.clip(length - offset, 0, 8)
        # a shorter token's word is masked to 0: where it would lie past the text, read the last
        at = start if offset == 0 else np.minimum(start + offset, len(words) - 1)
        yield words[at] & _MASK[size], size


def _byte_count(mask: np.ndarray) -> np.ndarray:
    """How many bytes of each word of byte masks (0x00 or 0xFF bytes) are set."""
    return (((mask & _LOW_BITS) * _LOW_BITS) >> _FIFTY_SIX).astype(np.int64)


def _eight_digits(x: np.ndarray) -> np.ndarray:
    """The number written by 8 digit values (0-9), one per byte, most significant first."""
    x = ((x * np.uint64(10 << 8 | 1)) >> np.uint64(8)) & np.uint64(0x00FF00FF00FF00FF)
    x = ((x * np.uint64(100 << 16 | 1)) >> np.uint64(16)) & np.uint64(0x0000FFFF0000FFFF)
    return (x * np.uint64(10000 << 32 | 1)) >> np.uint64(32)


class LabelColumn:
    """The codes of one label column, read piece by piece: its vocabulary (first-seen
    order), and the words of the labels of up to 8 bytes seen so far, in a hash table, so
    that a piece of known short labels (speakers, emotions) is coded by one lookup."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab
        self.known = np.zeros(0, np.uint64)
        self.known_codes = np.zeros(0, np.int32)
        self.table: np.ndarray | None = None  # bucket -> index of the known label there
        self.shift = np.uint64(64)

    def codes(self, buf: bytes, words: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        """The codes of the labels at ``start`` (of ``length`` bytes)."""
        keys = [word for word, _ in _token_words(words, start, length, int(length.max()))]
        short = len(keys) == 1
        if short and len(self.known):
            at = self._find(keys[0])
            if (self.known[at] == keys[0]).all():
                return self.known_codes[at]
        first, label = _first_seen(keys)
        at, size = start[first].tolist(), length[first].tolist()
        codes = np.fromiter(map(self.vocab.index.__getitem__, (buf[a:a + k] for a, k in zip(at, size))),
                            np.int32, len(first))
        if short and len(self.known) < _KNOWN:
            self._learn(keys[0][first], codes)
        return codes[label]

    def _find(self, keys: np.ndarray) -> np.ndarray:
        """Where each key would be among the known ones (found or not: check)."""
        if self.table is None:
            return np.minimum(np.searchsorted(self.known, keys), len(self.known) - 1)
        return self.table[(keys * _GOLDEN) >> self.shift]

    def _learn(self, keys: np.ndarray, codes: np.ndarray) -> None:
        keys = np.concatenate([self.known, keys])
        codes = np.concatenate([self.known_codes, codes])
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        new = np.r_[True, keys[1:] != keys[:-1]]  # a known label again: the same code
        self.known, self.known_codes = keys[new], codes[order][new]
        # a table of known labels by a multiplicative hash of their words: a lookup is three
        # array operations, where a binary search (searchsorted) costs ten times more
        self.table = None
        for bits in range(max(int(len(self.known)).bit_length() + 1, 4), 17):
            bucket = (self.known * _GOLDEN) >> np.uint64(64 - bits)
            ordered = np.sort(bucket)
            if (ordered[1:] != ordered[:-1]).all():  # no two known labels in one bucket
                self.table = np.zeros(1 << bits, np.int64)
                self.table[bucket] = np.arange(len(bucket))
                self.shift = np.uint64(64 - bits)
                break


def _first_seen(keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct label (rows of ``keys``), in first-seen order, and
    each row's label among them."""
    # only the rows that differ from the row above are sorted (a file id repeats for many lines)
    n = len(keys[0])
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(keys[0][1:], keys[0][:-1], out=new[1:])
    for key in keys[1:]:
        new[1:] |= key[1:] != key[:-1]
    heads = np.flatnonzero(new)
    head_keys = [key[heads] for key in keys]
    order = np.argsort(head_keys[0]) if len(keys) == 1 else np.lexsort(head_keys[::-1])
    opens = np.empty(len(heads), bool)
    opens[0] = True
    np.not_equal(head_keys[0][order[1:]], head_keys[0][order[:-1]], out=opens[1:])
    for key in head_keys[1:]:
        ordered = key[order]
        opens[1:] |= ordered[1:] != ordered[:-1]
    label_start = np.flatnonzero(opens)  # each label's run in the sorted heads
    first_head = np.minimum.reduceat(order, label_start)
    by_first_seen = np.argsort(first_head)
    rank = np.empty_like(by_first_seen)
    rank[by_first_seen] = np.arange(len(by_first_seen))
    head_label = np.empty(len(heads), np.int64)
    head_label[order] = rank[np.cumsum(opens) - 1]
    return heads[first_head[by_first_seen]], head_label[np.cumsum(new) - 1]
