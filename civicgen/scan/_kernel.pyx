# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, embedsignature=True
"""The compiled scan kernel: the same functions and results as reference.py, in one C pass.

The CSV bytes are parsed here (Python's csv dialect rules, strict), UTF-8 is validated
here, and the common types (string, integer, number, boolean, date, datetime, year) are
checked on byte slices. Python objects are made only for what is kept: key values,
cells of errors and group keys. A cell the C path is unsure about goes through the
reference's own cast and constraint code, so both kernels give the same answers; a plan
this kernel does not handle (other encodings, unusual dialects, keys of other types)
is scanned by the reference.
"""

cimport cython
from libc.stdint cimport int64_t, uint64_t, int32_t, uint32_t, uint8_t
from libc.stdlib cimport malloc, calloc, realloc, free, strtod
from libc.string cimport memchr, memcpy, memcmp, memset
from libc.math cimport log, ceil, fabs, isfinite
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_DecodeUTF8
from cpython.dict cimport PyDict_GetItem
from cpython.ref cimport PyObject

import gc
import mmap
import os
import datetime as dt
import io
import struct
from decimal import Decimal

from ..stats import partials
from . import cast as casting, reference
from .cast import NOT_CAST, broken_constraint, cast
from .reference import ScanResult, scan_rows
from .sequence import keys_proven

cdef extern from "<sys/mman.h>" nogil:
    int madvise(void* addr, size_t length, int advice)
    void* mmap_anon "mmap"(void* addr, size_t length, int prot, int flags, int fd, long offset)
    int munmap(void* addr, size_t length)
    enum: MADV_DONTNEED
    enum: MADV_HUGEPAGE
    enum: PROT_READ
    enum: PROT_WRITE
    enum: MAP_PRIVATE
    enum: MAP_ANONYMOUS
    void* MAP_FAILED

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void* op)

cdef extern from *:
    void prefetch "__builtin_prefetch"(const void* addr) nogil

cdef extern from *:
    """
    /* one 64x64->128 multiply, halves folded: a word's mixing step in hash_bytes */
    static inline uint64_t civicgen_fold(uint64_t a, uint64_t b) {
    #ifdef __SIZEOF_INT128__
        __uint128_t r = (__uint128_t)a * b;
        return (uint64_t)(r >> 64) ^ (uint64_t)r;
    #else
        a ^= a >> 33; a *= b; a ^= a >> 29; a *= 0xc4ceb9fe1a85ec53ULL;
        return a ^ (a >> 32);
    #endif
    }
    """
    uint64_t fold_mul "civicgen_fold"(uint64_t a, uint64_t b) noexcept nogil

DEF HUGE = 1 << 21
cdef Py_ssize_t MAX_KEYS = 0xFFFFFFFE  # entry numbers fill the low half of a slot

__all__ = ["ScanResult", "scan_csv", "scan_file", "scan_rows", "scan_range", "row_starts"]

# field kinds
DEF K_STR = 0
DEF K_INT = 1
DEF K_NUM = 2
DEF K_BOOL = 3
DEF K_DATE = 4
DEF K_DTIME = 5
DEF K_YEAR = 6
DEF K_SLOW = 7
# constraint operations
DEF C_MINLEN = 0
DEF C_MAXLEN = 1
DEF C_MIN = 2
DEF C_MAX = 3
DEF C_XMIN = 4
DEF C_XMAX = 5
DEF C_PATTERN = 6
DEF C_PY = 7
# cell status
DEF V_NONE = 0
DEF V_C = 1
DEF V_PY = 2

CANON_TYPES = {"string", "any", "integer", "number", "boolean", "date", "datetime", "year"}
EPOCH = dt.datetime(1, 1, 1)
MICRO = dt.timedelta(microseconds=1)
INT64 = struct.Struct("<q")
BOUND_NAMES = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
PATTERN_CACHE = 4096
DEF UTF8_BLOCK = 1 << 22
DEF UTF8_AHEAD = 1 << 20
DEF RELEASE_EVERY = 8 << 20
DEF FAULT_AROUND = 1 << 16
DEF PK_BATCH = 16  # rows whose primary keys are looked up together (their slots prefetched)
DEF CHECKPOINT_SHIFT = 4  # a checkpoint every 16 records: a row is re-read after 8 others
DEF CHECKPOINT_EVERY = 1 << CHECKPOINT_SHIFT
DEF PRESIZE_AFTER = 4096  # records read before the key index is sized for the rest


# --- hashing and key sets ------------------------------------------------------------


cdef inline uint64_t mix(uint64_t h) noexcept nogil:
    h ^= h >> 33
    h *= <uint64_t>0xff51afd7ed558ccd
    h ^= h >> 33
    h *= <uint64_t>0xc4ceb9fe1a85ec53
    h ^= h >> 33
    return h


cdef uint64_t hash_bytes(const char* p, Py_ssize_t n) noexcept nogil:
    cdef uint64_t h = <uint64_t>n * <uint64_t>0x9E3779B97F4A7C15
    cdef uint64_t w
    while n >= 8:
        memcpy(&w, p, 8)
        h = fold_mul(h ^ w, <uint64_t>0xa0761d6478bd642f)
        p += 8
        n -= 8
    w = 0
    if n:
        memcpy(&w, p, n)
        h = fold_mul(h ^ w ^ (<uint64_t>n << 56), <uint64_t>0xe7037ed1a0b428db)
    return mix(h)


cdef struct Entry:
    uint64_t hash
    int64_t off
    int64_t row


cdef inline char* grow_bytes(char* buffer, Py_ssize_t* cap, Py_ssize_t need) except NULL:
    """The buffer, its capacity doubled until `need` bytes fit (cap is updated)."""
    cdef char* grown
    if need <= cap[0]:
        return buffer
    while need > cap[0]:
        cap[0] *= 2
    grown = <char*>realloc(buffer, cap[0])
    if not grown:
        raise MemoryError()
    return grown


cdef inline void* resized(void* items, size_t count, size_t size) except NULL:
    """items reallocated for count items of size bytes (MemoryError, items kept, if not)."""
    cdef void* grown = realloc(items, count * size)
    if grown == NULL:
        raise MemoryError()
    return grown


@cython.final
cdef class KeySet:
    """Distinct byte keys, each with the first row (or group number) it was seen at."""

    cdef char* arena
    cdef Py_ssize_t arena_len, arena_cap
    cdef Entry* entries
    cdef Py_ssize_t n, cap
    cdef uint64_t* slots
    cdef uint64_t mask

    def __cinit__(self):
        self.arena_cap = 1024
        self.arena = <char*>malloc(self.arena_cap)
        self.cap = 64
        self.entries = <Entry*>malloc(self.cap * sizeof(Entry))
        self.mask = 127
        self.slots = <uint64_t*>malloc((self.mask + 1) * sizeof(uint64_t))
        if not self.arena or not self.entries or not self.slots:
            raise MemoryError()
        self.clear_slots()

    def __dealloc__(self):
        free(self.arena)
        free(self.entries)
        free(self.slots)

    def __len__(self):
        return self.n

    cdef void clear_slots(self) noexcept:
        cdef uint64_t i
        for i in range(self.mask + 1):
            self.slots[i] = 0

    cdef inline Py_ssize_t key_len(self, Py_ssize_t i) noexcept:
        if i + 1 < self.n:
            return self.entries[i + 1].off - self.entries[i].off
        return self.arena_len - self.entries[i].off

    cdef int grow_slots(self) except -1:
        cdef uint64_t size = (self.mask + 1) * 2
        cdef uint64_t* slots = <uint64_t*>realloc(self.slots, size * sizeof(uint64_t))
        if not slots:
            raise MemoryError()
        self.slots = slots
        self.mask = size - 1
        self.clear_slots()
        cdef Py_ssize_t i
        cdef uint64_t s
        for i in range(self.n):
            s = self.entries[i].hash & self.mask
            while self.slots[s]:
                s = (s + 1) & self.mask
            self.slots[s] = <uint64_t>(i + 1) | (self.entries[i].hash >> 32 << 32)
        return 0

    cdef Py_ssize_t find(self, const char* key, Py_ssize_t klen, uint64_t h) noexcept:
        """Index of the entry holding key, or -1 - (free slot) when absent.

        A slot holds the entry number + 1 in its low half and the hash's high half above,
        so a probe past another key rarely touches the entries.
        """
        cdef uint64_t s = h & self.mask, slot, tag = h >> 32
        cdef Py_ssize_t e
        while True:
            slot = self.slots[s]
            if slot == 0:
                return -1 - <Py_ssize_t>s
            if (slot >> 32) == tag:
                e = <Py_ssize_t><uint32_t>slot - 1
                if (self.entries[e].hash == h and self.key_len(e) == klen
                        and memcmp(self.arena + self.entries[e].off, key, klen) == 0):
                    return e
            s = (s + 1) & self.mask

    cdef inline int64_t insert(self, const char* key, Py_ssize_t klen, int64_t row) except -2:
        """The row stored for key; stores row and returns -1 if the key is new."""
        return self.insert_hashed(key, klen, hash_bytes(key, klen), row)

    cdef int64_t insert_hashed(self, const char* key, Py_ssize_t klen, uint64_t h,
                               int64_t row) except -2:
        cdef Py_ssize_t found = self.find(key, klen, h)
        if found >= 0:
            return self.entries[found].row
        self.append(key, klen, h, row)
        if <uint64_t>(self.n * 2) > (self.mask + 1):
            self.grow_slots()
        else:
            self.slots[-1 - found] = <uint64_t>self.n | (h >> 32 << 32)
        return -1

    cdef int append(self, const char* key, Py_ssize_t klen, uint64_t h, int64_t row) except -1:
        self.arena = grow_bytes(self.arena, &self.arena_cap, self.arena_len + klen)
        if self.n == self.cap:
            self.entries = <Entry*>resized(self.entries, self.cap * 2, sizeof(Entry))
            self.cap *= 2
        memcpy(self.arena + self.arena_len, key, klen)
        self.entries[self.n].hash = h
        self.entries[self.n].off = self.arena_len
        self.entries[self.n].row = row
        self.arena_len += klen
        self.n += 1
        return 0

    def dumps(self) -> tuple:
        """The keys as two bytes objects (arena, entries): cheap to send between processes."""
        return (
            PyBytes_FromStringAndSize(self.arena, self.arena_len),
            PyBytes_FromStringAndSize(<char*>self.entries, self.n * sizeof(Entry)),
        )

    @staticmethod
    def loads(bytes arena, bytes entries) -> KeySet:
        cdef KeySet ks = KeySet()
        cdef Py_ssize_t count = PyBytes_GET_SIZE(entries) // sizeof(Entry)
        cdef const Entry* src = <const Entry*>PyBytes_AS_STRING(entries)
        cdef const char* a = PyBytes_AS_STRING(arena)
        cdef Py_ssize_t i, klen
        for i in range(count):
            klen = (src[i + 1].off if i + 1 < count else PyBytes_GET_SIZE(arena)) - src[i].off
            ks.append(a + src[i].off, klen, src[i].hash, src[i].row)
            if <uint64_t>(ks.n * 2) > (ks.mask + 1):
                ks.grow_slots()
            else:
                ks.slots[-1 - ks.find(a + src[i].off, klen, src[i].hash)] = (
                    <uint64_t>ks.n | (src[i].hash >> 32 << 32))
        return ks

    def merge_later(self, KeySet later) -> dict:
        """Add the keys of a later chunk; return {its first row: first row here} for known keys."""
        cdef dict moved = {}
        cdef Py_ssize_t i, found, klen
        cdef const char* key
        for i in range(later.n):
            key = later.arena + later.entries[i].off
            klen = later.key_len(i)
            found = self.find(key, klen, later.entries[i].hash)
            if found >= 0:
                moved[later.entries[i].row] = self.entries[found].row
            else:
                self.append(key, klen, later.entries[i].hash, later.entries[i].row)
                if <uint64_t>(self.n * 2) > (self.mask + 1):
                    self.grow_slots()
                else:
                    self.slots[-1 - found] = <uint64_t>self.n | (later.entries[i].hash >> 32 << 32)
        return moved


cdef inline Py_ssize_t part_of(uint32_t tag, Py_ssize_t parts) noexcept:
    """The part (of `parts`) a key belongs to, from its tag's high bits (slots use the low)."""
    return <Py_ssize_t>((<uint64_t>tag * <uint64_t>parts) >> 32)


cdef uint64_t* new_slots(size_t count) except NULL:
    """A zeroed slot array; a large one on transparent huge pages (fewer TLB misses)."""
    cdef size_t size = count * sizeof(uint64_t)
    cdef void* p
    if size < HUGE:
        p = calloc(count, sizeof(uint64_t))
    else:
        p = mmap_anon(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if p == MAP_FAILED:
            p = NULL
        else:
            madvise(p, size, MADV_HUGEPAGE)
    if p == NULL:
        raise MemoryError()
    return <uint64_t*>p


cdef void free_slots(uint64_t* slots, size_t count) noexcept:
    if slots == NULL:
        return
    if count * sizeof(uint64_t) < HUGE:
        free(slots)
    else:
        munmap(slots, count * sizeof(uint64_t))


@cython.final
cdef class KeyIndex:
    """Distinct keys as a 32-bit hash tag and the first row: 8 bytes a key, 8 a slot.

    Equal tags are candidates, never verdicts: the caller re-reads the earlier row from
    the data and compares the canonical key bytes exactly. A slot holds the entry
    number + 1 in its low half and the tag above; the tag also picks the first slot,
    so the table can grow without the keys.
    """

    cdef int64_t* rows
    cdef Py_ssize_t n, cap
    cdef uint64_t* slots
    cdef uint64_t mask

    def __cinit__(self):
        self.cap = 1024
        self.rows = <int64_t*>malloc(self.cap * sizeof(int64_t))
        self.mask = 2047
        self.slots = new_slots(self.mask + 1)
        if not self.rows:
            raise MemoryError()

    def __dealloc__(self):
        free(self.rows)
        free_slots(self.slots, self.mask + 1)

    def __len__(self):
        return self.n

    def clear(self):
        """Give the memory back (the scan is over)."""
        free(self.rows)
        free_slots(self.slots, self.mask + 1)
        self.rows = NULL
        self.slots = NULL
        self.n = self.cap = self.mask = 0

    cdef inline Py_ssize_t next_match(self, uint64_t tag, uint64_t* s) noexcept:
        """The next entry with this tag from slot s on (s moves past it), or -1 at a free slot s."""
        cdef uint64_t slot
        while True:
            slot = self.slots[s[0]]
            if slot == 0:
                return -1
            s[0] = (s[0] + 1) & self.mask
            if (slot >> 32) == tag:
                return <Py_ssize_t><uint32_t>slot - 1

    cdef int put(self, uint64_t s, uint64_t tag, int64_t row) except -1:
        """Add a key at free slot s (as left by next_match)."""
        if self.n == self.cap:
            self.rows = <int64_t*>resized(self.rows, self.cap * 2, sizeof(int64_t))
            self.cap *= 2
        if self.n >= MAX_KEYS:
            raise MemoryError("more than 4 billion distinct keys")
        self.rows[self.n] = row
        self.n += 1
        self.slots[s] = <uint64_t>self.n | (tag << 32)
        if <uint64_t>self.n * 8 > (self.mask + 1) * 5:
            self.grow()
        return 0

    cdef int reserve(self, Py_ssize_t keys) except -1:
        """Room for about `keys` keys at once: no rehash or copy on the way there."""
        cdef uint64_t size = self.mask + 1
        if keys > self.cap:
            self.rows = <int64_t*>resized(self.rows, keys, sizeof(int64_t))
            self.cap = keys
        while <uint64_t>keys * 8 > size * 5:
            size *= 2
        if size > self.mask + 1:
            self.rehash(size)
        return 0

    cdef int empty(self, Py_ssize_t keys) except -1:
        """Forget every key and make room for `keys` more (the memory is kept: no new
        pages to fault in)."""
        self.n = 0
        memset(self.slots, 0, (self.mask + 1) * sizeof(uint64_t))
        return self.reserve(keys)

    cdef int grow(self) except -1:
        return self.rehash((self.mask + 1) * 2)

    cdef int rehash(self, uint64_t size) except -1:
        cdef uint64_t i, s, slot
        cdef uint64_t* slots = new_slots(size)
        for i in range(self.mask + 1):
            slot = self.slots[i]
            if slot:
                s = (slot >> 32) & (size - 1)
                while slots[s]:
                    s = (s + 1) & (size - 1)
                slots[s] = slot
        free_slots(self.slots, self.mask + 1)
        self.slots = slots
        self.mask = size - 1
        return 0


# --- canonical key bytes of Python values (equal values, equal bytes) -----------------


def canon(value):
    """Bytes equal for values Python finds equal (the kernel's C path writes the same)."""
    if value is True or value is False:
        return b"b1" if value else b"b0"
    if isinstance(value, int):
        if -(1 << 63) <= value < (1 << 63):
            return b"i" + INT64.pack(value)
        return b"I" + str(value).encode()
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, Decimal):
        return canon_decimal(value)
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            return b"N" + INT64.pack((value - EPOCH) // MICRO)
        return b"A" + INT64.pack((value.replace(tzinfo=None) - EPOCH - value.utcoffset()) // MICRO)
    if isinstance(value, dt.date):
        return b"d" + INT64.pack(value.toordinal())
    raise TypeError(f"no canonical key for {type(value).__name__}")


def canon_decimal(value):
    if value.is_nan():
        hash(value)  # a signalling NaN cannot be hashed: fail as the reference does
        return None
    if value.is_infinite():
        return b"F-" if value.is_signed() else b"F+"
    if not value:
        return b"D0"
    sign, digits, exponent = value.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    stripped = text.rstrip("0")
    exponent += len(text) - len(stripped)
    return b"D" + (b"-" if sign else b"+") + INT64.pack(exponent) + stripped.encode()


# --- byte-level parsing of cell values ------------------------------------------------


cdef char EMPTY[1]
EMPTY[0] = 0
cdef double POW10[23]
cdef int _i
POW10[0] = 1.0
for _i in range(1, 23):
    POW10[_i] = POW10[_i - 1] * 10.0


cdef inline bint is_digit(char c) noexcept nogil:
    return <unsigned char>(c - 48) < 10


cdef inline Py_ssize_t codepoints(const char* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, count = 0
    for i in range(n):
        if (<uint8_t>p[i] & 0xC0) != 0x80:
            count += 1
    return count


cdef inline Py_ssize_t prefix_bytes(const char* p, Py_ssize_t n, Py_ssize_t chars) noexcept nogil:
    """Bytes of the first `chars` code points of a UTF-8 slice."""
    cdef Py_ssize_t i = 0, seen = 0
    while i < n:
        if (<uint8_t>p[i] & 0xC0) != 0x80:
            if seen == chars:
                return i
            seen += 1
        i += 1
    return n


cdef inline int parse_int(const char* p, Py_ssize_t n, int64_t* out) noexcept nogil:
    """[+-]?digits (at most 18): 1 and the value, else 0 (let Python decide)."""
    cdef Py_ssize_t i = 0
    cdef int64_t v = 0
    cdef bint neg = False
    if n == 0:
        return 0
    if p[0] == 45 or p[0] == 43:  # - +
        neg = p[0] == 45
        i = 1
    if n - i < 1 or n - i > 18:
        return 0
    while i < n:
        if not is_digit(p[i]):
            return 0
        v = v * 10 + (p[i] - 48)
        i += 1
    out[0] = -v if neg else v
    return 1


cdef struct Num:
    double value
    uint64_t mantissa  # significant digits, trailing zeros removed
    int64_t exponent
    bint negative


cdef inline Py_ssize_t read_digits(const char* p, Py_ssize_t i, Py_ssize_t n, uint64_t* m,
                                   Py_ssize_t* digits) noexcept nogil:
    """The decimal digits from p[i] on, into m (the significant ones counted in digits):
    the position after them, or -1 past 19 significant digits."""
    while i < n and is_digit(p[i]):
        if m[0] or p[i] != 48:
            digits[0] += 1
            if digits[0] > 19:
                return -1
        m[0] = m[0] * 10 + <uint64_t>(p[i] - 48)
        i += 1
    return i


cdef int parse_number(const char* p, Py_ssize_t n, Num* out, bint digits_out=True) noexcept nogil:
    """[+-]?(d+(.d*)?|.d+)([eE][+-]?d+)? with at most 19 digits: 1, else 0.

    The value always; mantissa and exponent (the canonical digits) only with digits_out."""
    cdef Py_ssize_t i = 0, digits = 0, frac = 0, start
    cdef uint64_t m = 0
    cdef int64_t e = 0, ev = 0
    cdef bint neg = False, eneg = False, any_digit = False
    cdef char buf[64]
    if n == 0 or n > 60:
        return 0
    if p[0] == 45 or p[0] == 43:
        neg = p[0] == 45
        i = 1
    start = i
    i = read_digits(p, i, n, &m, &digits)
    if i < 0:
        return 0
    any_digit = i > start
    if i < n and p[i] == 46:  # .
        start = i + 1
        i = read_digits(p, start, n, &m, &digits)
        if i < 0:
            return 0
        frac = i - start
        any_digit = any_digit or frac > 0
    if not any_digit:
        return 0
    if i < n and (p[i] == 101 or p[i] == 69):  # e E
        i += 1
        if i < n and (p[i] == 45 or p[i] == 43):
            eneg = p[i] == 45
            i += 1
        start = i
        while i < n and is_digit(p[i]):
            ev = ev * 10 + (p[i] - 48)
            i += 1
            if i - start > 6:
                return 0
        if i == start:
            return 0
        if eneg:
            ev = -ev
    if i != n:
        return 0
    e = ev - frac
    out.negative = neg
    if m <= <uint64_t>9007199254740992 and -22 <= e <= 22:
        out.value = <double>m * POW10[e] if e >= 0 else <double>m / POW10[-e]
        if neg:
            out.value = -out.value
    else:
        memcpy(buf, p, n)  # correctly rounded, like float(Decimal(text))
        buf[n] = 0
        out.value = strtod(buf, NULL)
    if not digits_out:
        return 1
    while m and m % 10 == 0:
        m //= 10
        e += 1
    out.mantissa = m
    out.exponent = e
    return 1


cdef inline int two(const char* p) noexcept nogil:
    if not is_digit(p[0]) or not is_digit(p[1]):
        return -1
    return (p[0] - 48) * 10 + (p[1] - 48)


cdef inline bint leap(int64_t y) noexcept nogil:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


cdef int64_t ordinal(int64_t y, int64_t m, int64_t d) noexcept nogil:
    """datetime.date(y, m, d).toordinal()."""
    cdef int64_t[13] before = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
    cdef int64_t yy = y - 1
    cdef int64_t days = yy * 365 + yy // 4 - yy // 100 + yy // 400 + before[m] + d
    if m > 2 and leap(y):
        days += 1
    return days


cdef int parse_date(const char* p, Py_ssize_t n, int64_t* out) noexcept nogil:
    """YYYY-MM-DD with a real day: 1 and the ordinal, else 0."""
    cdef int y1, y2, m, d
    cdef int64_t y
    cdef int[13] days = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if n != 10 or p[4] != 45 or p[7] != 45:
        return 0
    y1 = two(p)
    y2 = two(p + 2)
    m = two(p + 5)
    d = two(p + 8)
    if y1 < 0 or y2 < 0 or m < 1 or m > 12 or d < 1 or d > days[m]:
        return 0
    y = y1 * 100 + y2
    if y < 1 or (m == 2 and d == 29 and not leap(y)):
        return 0
    out[0] = ordinal(y, m, d)
    return 1


cdef int parse_datetime(const char* p, Py_ssize_t n, int64_t* out, bint* aware) noexcept nogil:
    """YYYY-MM-DD[T ]HH:MM:SS[Z|±HH:MM]: 1 and microseconds (UTC when aware), else 0."""
    cdef int64_t day
    cdef int hh, mm, ss, oh, om
    cdef int64_t offset = 0
    if n != 19 and n != 20 and n != 25:
        return 0
    if p[10] != 84 and p[10] != 32:  # T or space
        return 0
    if not parse_date(p, 10, &day):
        return 0
    if p[13] != 58 or p[16] != 58:
        return 0
    hh = two(p + 11)
    mm = two(p + 14)
    ss = two(p + 17)
    if hh < 0 or hh > 23 or mm < 0 or mm > 59 or ss < 0 or ss > 59:
        return 0
    aware[0] = n != 19
    if n == 20:
        if p[19] != 90:  # Z
            return 0
    elif n == 25:
        if (p[19] != 43 and p[19] != 45) or p[22] != 58:
            return 0
        oh = two(p + 20)
        om = two(p + 23)
        if oh < 0 or oh > 23 or om < 0 or om > 59:
            return 0
        offset = (oh * 60 + om) * 60
        if p[19] == 45:
            offset = -offset
    out[0] = ((day - 1) * 86400 + hh * 3600 + mm * 60 + ss - offset) * 1000000
    return 1


cdef int parse_moment(const char* p, Py_ssize_t n, int64_t* out) noexcept nogil:
    """A reading's time as sequence.micros reads it: 1 and microseconds, else 0. A date-time
    (parse_datetime), one with a fraction of a second of 1 to 9 digits (cut to
    microseconds) before its zone, or a date (its midnight)."""
    cdef char[25] whole
    cdef Py_ssize_t digits = 0, zone
    cdef int64_t fraction = 0, scale = 1000000
    cdef bint aware
    if parse_datetime(p, n, out, &aware):
        return 1
    if parse_date(p, n, out):
        out[0] = (out[0] - 1) * 86400 * <int64_t>1000000
        return 1
    if n < 21 or p[19] != 46:  # .
        return 0
    while 20 + digits < n and is_digit(p[20 + digits]):
        if digits < 6:
            fraction = fraction * 10 + (p[20 + digits] - 48)
            scale //= 10
        digits += 1
    zone = n - 20 - digits
    if digits == 0 or digits > 9 or (zone != 0 and zone != 1 and zone != 6):
        return 0
    memcpy(whole, p, 19)
    memcpy(whole + 19, p + 20 + digits, zone)
    if not parse_datetime(whole, 19 + zone, out, &aware):
        return 0
    out[0] += fraction * scale
    return 1


cdef inline bint utf8_valid(const uint8_t* s, Py_ssize_t n) noexcept nogil:
    """Strict UTF-8, as Python's decoder: no overlongs, surrogates or code points > U+10FFFF."""
    cdef Py_ssize_t i = 0
    cdef uint64_t w
    cdef uint8_t c, c1
    while i < n:
        if i + 8 <= n:
            memcpy(&w, s + i, 8)
            if (w & <uint64_t>0x8080808080808080) == 0:
                i += 8
                continue
        c = s[i]
        if c < 0x80:
            i += 1
            continue
        if c < 0xC2 or c > 0xF4:
            return False
        if c < 0xE0:
            if i + 1 >= n or (s[i + 1] & 0xC0) != 0x80:
                return False
            i += 2
            continue
        if i + 1 >= n:
            return False
        c1 = s[i + 1]
        if c < 0xF0:
            if (c1 & 0xC0) != 0x80 or (c == 0xE0 and c1 < 0xA0) or (c == 0xED and c1 > 0x9F):
                return False
            if i + 2 >= n or (s[i + 2] & 0xC0) != 0x80:
                return False
            i += 3
            continue
        if (c1 & 0xC0) != 0x80 or (c == 0xF0 and c1 < 0x90) or (c == 0xF4 and c1 > 0x8F):
            return False
        if i + 3 >= n or (s[i + 2] & 0xC0) != 0x80 or (s[i + 3] & 0xC0) != 0x80:
            return False
        i += 4
    return True


# --- the plan, compiled to C structs ----------------------------------------------------


cdef struct Pending:
    uint64_t tag
    int64_t row
    Py_ssize_t errors  # the row's errors end here: its primary-key error goes there
    Py_ssize_t key_at
    Py_ssize_t key_len


cdef struct Check:
    int op
    int64_t ilim
    double dlim
    int index  # into Scan.checks_py: (name, single-constraint FieldPlan, cache dict or None)


cdef struct Spec:
    int kind
    bint required
    int unique  # index into Scan.unique_sets, or -1
    bint keyed  # part of the primary key
    int first_check
    int checks
    bint empty_missing  # missing values are exactly ("",)


def supported(plan) -> bool:
    """Whether this kernel runs the plan itself (else the reference scans it)."""
    d = plan.dialect
    if d.problem or d.encoding.lower().replace("_", "-") != "utf-8":
        return False
    for char in (d.delimiter, d.quote_char):
        if len(char) != 1 or ord(char) > 127 or char in "\r\n":
            return False
    if d.delimiter == d.quote_char or (d.skip_initial_space and " " in (d.delimiter, d.quote_char)):
        return False
    keyed = set(plan.primary_key)
    keyed.update(i for i, f in enumerate(plan.fields) if dict(f.constraints).get("unique"))
    return all(plan.fields[i].type in CANON_TYPES for i in keyed)


def field_kind(field) -> int:
    t, fmt = field.type, field.format
    if t == "string":
        return K_STR if fmt not in casting.CHECKED_FORMATS else K_SLOW
    if t == "integer":
        return K_INT if field.bare_number else K_SLOW
    if t == "number":
        plain = field.bare_number and not field.group_char and field.decimal_char == "."
        return K_NUM if plain else K_SLOW
    if t == "boolean":
        return K_BOOL
    if t in ("date", "datetime"):
        if fmt not in ("default", "any"):
            return K_SLOW
        return K_DATE if t == "date" else K_DTIME
    if t == "year":
        return K_YEAR
    if t == "any" or t not in casting.CASTERS:
        return K_STR
    return K_SLOW


def check_plan(field, int kind, str name, rule):
    """(op, int limit, float limit) for a constraint the C path can check, or None."""
    if name in ("minLength", "maxLength"):
        if kind != K_STR:
            return "skip" if kind != K_SLOW else None
        if type(rule) is int:
            return (C_MINLEN if name == "minLength" else C_MAXLEN, rule, 0.0)
        return None
    if name == "pattern":
        return (C_PATTERN, 0, 0.0)
    if name not in BOUND_NAMES:
        return None
    op = C_MIN + BOUND_NAMES.index(name)
    limit = casting.bound(field, rule)
    if kind in (K_INT, K_YEAR) and type(limit) in (int, bool) and -(1 << 62) < limit < (1 << 62):
        return (op, int(limit), 0.0)
    if kind == K_NUM and isinstance(limit, Decimal) and limit.is_finite():
        return (op, 0, float(limit))
    if kind == K_DATE and type(limit) is dt.date:
        return (op, limit.toordinal(), 0.0)
    if kind in (K_INT, K_YEAR, K_NUM, K_DATE) and (limit is NOT_CAST or limit is None or isinstance(limit, str)):
        return "skip"  # comparing raises TypeError in the reference: never broken
    return None


cdef double LOG_GAMMA = partials.LOG_GAMMA


cdef inline void let_others_run() noexcept:
    """Let go of the interpreter for a moment: this process's other threads (a process
    pool's feeder and result reader) keep going during a long merge."""
    with nogil:
        pass


cdef tuple decode_key(const char* p, Py_ssize_t size):
    """A group key's texts from its bytes (each a 4-byte length, then UTF-8)."""
    cdef Py_ssize_t at = 0
    cdef int32_t length
    parts = []
    while at < size:
        memcpy(&length, p + at, 4)
        parts.append(PyUnicode_DecodeUTF8(p + at + 4, length, NULL))
        at += 4 + length
    return tuple(parts)


DEF SKETCH_BITS = 18  # a bucket's code: 0 for zero, else 17 bits of log index and a sign
DEF SKETCH_SHIFT = 40000  # |index| - 1,000,000 of a finite double is within ±38,000


cdef inline uint64_t bucket_code(double v) noexcept nogil:
    """partials.bucket(v) in SKETCH_BITS: 0 for zero, else |index| - 1,000,000 + SKETCH_SHIFT,
    with bit 17 for a negative value."""
    cdef int64_t k
    if v == 0:
        return 0
    k = <int64_t>ceil(log(fabs(v)) / LOG_GAMMA) + SKETCH_SHIFT
    return <uint64_t>k | (<uint64_t>(v < 0) << 17)


cdef inline int64_t code_bucket(uint64_t code) noexcept nogil:
    """partials.bucket's index of a bucket code."""
    cdef int64_t index
    if code == 0:
        return 0
    index = <int64_t>(code & 0x1FFFF) - SKETCH_SHIFT + 1000000
    return -index if code >> 17 else index


ctypedef struct SketchEntry:
    uint64_t key  # (group * nm + measure) << SKETCH_BITS | code; in a Sketch, the code plus 1
    int64_t count


ctypedef struct Sketch:
    SketchEntry* entries  # one measure of one group: its buckets, a small hash table (0: empty)
    uint32_t cap, used  # cap: 0 or a power of two


cdef inline uint32_t bucket_slot(uint64_t code, uint32_t cap) noexcept nogil:
    """Where a bucket code's entry starts looking in a table of cap (a power of two) entries."""
    return <uint32_t>((code * <uint64_t>0x9E3779B97F4A7C15) >> 32) & (cap - 1)


cdef int grow_sketch(Sketch* sketch) except -1:
    """Double a slot's table (8 entries at first), its entries placed again."""
    cdef uint32_t cap = max(8, 2 * sketch.cap), i, at
    cdef SketchEntry* entries = <SketchEntry*>calloc(cap, sizeof(SketchEntry))
    if not entries:
        raise MemoryError()
    for i in range(sketch.cap):
        if sketch.entries[i].key:
            at = bucket_slot(sketch.entries[i].key, cap)
            while entries[at].key:
                at = (at + 1) & (cap - 1)
            entries[at] = sketch.entries[i]
    free(sketch.entries)
    sketch.entries, sketch.cap = entries, cap
    return 0


DEF RADIX_BITS = 11  # a pass of the sort: 2,048 counters, which stay in cache


cdef int sort_sketch_entries(SketchEntry* entries, Py_ssize_t n, uint64_t largest) except -1:
    """Sort entries by key (all distinct): least significant digit first, RADIX_BITS a pass,
    as many passes as the largest key has digits. Linear: qsort took 0.4 s for the 1.9
    million entries of a 5M-row sensor table's daily sketches."""
    cdef SketchEntry* spare = <SketchEntry*>malloc((n + 1) * sizeof(SketchEntry))
    cdef SketchEntry* source = entries
    cdef SketchEntry* target = spare
    cdef Py_ssize_t counts[1 << RADIX_BITS]
    cdef Py_ssize_t i, d, total, seen
    cdef int shift = 0
    if not spare:
        raise MemoryError()
    while shift < 64 and (largest >> shift):
        memset(counts, 0, sizeof(counts))
        for i in range(n):
            counts[(source[i].key >> shift) & ((1 << RADIX_BITS) - 1)] += 1
        total = 0
        for d in range(1 << RADIX_BITS):
            seen = counts[d]
            counts[d] = total
            total += seen
        for i in range(n):
            d = (source[i].key >> shift) & ((1 << RADIX_BITS) - 1)
            target[counts[d]] = source[i]
            counts[d] += 1
        source, target = target, source
        shift += RADIX_BITS
    if source != entries:
        memcpy(entries, source, n * sizeof(SketchEntry))
    free(spare)
    return 0


@cython.final
cdef class GroupAcc:
    """The partial states of one GroupBy, in C: per group rows, then per measure
    count, sum, minimum, maximum, missing (as partials.new_group); the quantile sketches
    of all groups in one hash table of counts, keyed by (group, measure, bucket code)."""

    cdef KeySet index  # the groups' keys as bytes, entry g for group g
    cdef int nk, nm
    cdef int* kidx
    cdef Py_ssize_t* kcut
    cdef int* midx
    cdef double* acc
    cdef Py_ssize_t n, cap, stride, limit
    cdef bint quantiles, collapsed
    cdef Sketch* sketches  # per slot (group * nm + measure): a table of its own, so that the
    # buckets of the groups being filled stay in the processor's cache
    cdef Py_ssize_t slots, sused  # slots allocated; entries in all
    cdef uint64_t* pending  # a row's sketch keys: all prefetched, then counted (fold)
    cdef Py_ssize_t npending

    def __cinit__(self, group_by):
        self.index = KeySet()
        self.nk = len(group_by.keys)
        self.nm = len(group_by.measures)
        self.quantiles = bool(group_by.quantiles)
        self.limit = group_by.limit if group_by.keys else 0
        self.kidx = <int*>malloc(max(self.nk, 1) * sizeof(int))
        self.kcut = <Py_ssize_t*>malloc(max(self.nk, 1) * sizeof(Py_ssize_t))
        self.midx = <int*>malloc(max(self.nm, 1) * sizeof(int))
        self.pending = <uint64_t*>malloc(max(self.nm, 1) * sizeof(uint64_t))
        self.npending = 0
        if not self.pending:
            raise MemoryError()
        self.stride = 1 + 5 * self.nm
        self.cap = 16
        self.acc = <double*>malloc(self.cap * self.stride * sizeof(double))
        cuts = {"day": 10, "hour": 13}
        for k, (index, transform, argument) in enumerate(group_by.keys):
            self.kidx[k] = index
            self.kcut[k] = argument if transform == "prefix" else cuts.get(transform, -1)
        for m, index in enumerate(group_by.measures):
            self.midx[m] = index

    def __dealloc__(self):
        free(self.kidx)
        free(self.kcut)
        free(self.midx)
        free(self.pending)
        free(self.acc)
        self.free_sketches()

    cdef void free_sketches(self) noexcept:
        cdef Py_ssize_t i
        for i in range(self.slots):
            free(self.sketches[i].entries)
        free(self.sketches)
        self.sketches, self.slots, self.sused = NULL, 0, 0

    cdef int count_bucket(self, uint64_t key, int64_t count) except -1:
        """Add count to the sketch entry key (its slot's table made or grown as needed)."""
        cdef uint64_t slot = key >> SKETCH_BITS, code = (key & ((1 << SKETCH_BITS) - 1)) + 1
        cdef Sketch* sketch
        cdef uint32_t at
        if slot >= <uint64_t>self.slots:
            self.more_slots(slot + 1)
        sketch = self.sketches + slot
        if 2 * (sketch.used + 1) > sketch.cap:
            grow_sketch(sketch)
        at = bucket_slot(code, sketch.cap)
        while sketch.entries[at].key and sketch.entries[at].key != code:
            at = (at + 1) & (sketch.cap - 1)
        if sketch.entries[at].key:
            sketch.entries[at].count += count
        else:
            sketch.entries[at].key, sketch.entries[at].count = code, count
            sketch.used += 1
            self.sused += 1
        return 0

    cdef int more_slots(self, Py_ssize_t wanted) except -1:
        """Room for the tables of slots up to wanted (doubling), the new ones empty."""
        cdef Py_ssize_t slots = max(wanted, 2 * self.slots, 64)
        self.sketches = <Sketch*>resized(self.sketches, slots, sizeof(Sketch))
        memset(self.sketches + self.slots, 0, (slots - self.slots) * sizeof(Sketch))
        self.slots = slots
        return 0

    cdef SketchEntry* gathered(self) except NULL:
        """Every sketch entry (its key the whole key), in slot order: freed by the caller."""
        cdef SketchEntry* out = <SketchEntry*>malloc((self.sused + 1) * sizeof(SketchEntry))
        cdef Py_ssize_t slot, at = 0
        cdef uint32_t i
        cdef Sketch* sketch
        if not out:
            raise MemoryError()
        for slot in range(self.slots):
            sketch = self.sketches + slot
            for i in range(sketch.cap):
                if sketch.entries[i].key:
                    out[at].key = (<uint64_t>slot << SKETCH_BITS) | (sketch.entries[i].key - 1)
                    out[at].count = sketch.entries[i].count
                    at += 1
        return out

    cdef int64_t add(self) except -1:
        """A new group (its key is the index's entry of the same number), its state empty."""
        cdef double* g
        cdef Py_ssize_t m
        if self.n == self.cap:
            self.acc = <double*>resized(self.acc, self.cap * 2 * self.stride, sizeof(double))
            self.cap *= 2
        g = self.acc + self.n * self.stride
        g[0] = 0
        for m in range(self.nm):
            g[1 + 5 * m] = 0
            g[2 + 5 * m] = 0.0
            g[3 + 5 * m] = float("inf")
            g[4 + 5 * m] = -float("inf")
            g[5 + 5 * m] = 0
        self.n += 1
        return self.n - 1

    cdef inline void sketch(self, int64_t gid, Py_ssize_t m, double v) noexcept:
        """Count v in its bucket when the row's other measures are in (count_pending): the
        buckets of a row's measures are fetched from memory together."""
        cdef uint64_t code, slot = <uint64_t>gid * self.nm + m
        cdef Sketch* sketch
        if not isfinite(v):
            return  # NaN and infinities stay out of the sketch, as in partials.add
        code = bucket_code(v)
        if slot < <uint64_t>self.slots and self.sketches[slot].cap:
            sketch = self.sketches + slot
            prefetch(sketch.entries + bucket_slot(code + 1, sketch.cap))
        self.pending[self.npending] = (slot << SKETCH_BITS) | code
        self.npending += 1

    cdef int count_pending(self) except -1:
        cdef Py_ssize_t i, n = self.npending
        self.npending = 0
        for i in range(n):
            self.count_bucket(self.pending[i], 1)
        return 0

    cdef bytes used_sketches(self):
        """The sketch entries as (key, count) pairs of uint64/int64, in slot order."""
        cdef SketchEntry* entries = self.gathered()
        try:
            return PyBytes_FromStringAndSize(<char*>entries, self.sused * sizeof(SketchEntry))
        finally:
            free(entries)

    def dump(self) -> tuple:
        """The partial states compactly (keys, C doubles and sketch entries as bytes): to
        send between processes."""
        acc = PyBytes_FromStringAndSize(<char*>self.acc, self.n * self.stride * sizeof(double))
        sketches = self.used_sketches() if self.quantiles else None
        return self.index.dumps(), self.collapsed, acc, sketches

    def absorb(self, dump) -> None:
        """Add the groups of a later chunk's dump, as partials.merge_groups adds them."""
        arena, entry_bytes = dump[0]
        cdef const char* keys_at = PyBytes_AS_STRING(arena)
        cdef const Entry* entries = <const Entry*>PyBytes_AS_STRING(entry_bytes)
        cdef const double* src = <const double*>PyBytes_AS_STRING(dump[2])
        cdef Py_ssize_t g, count, klen
        cdef int64_t gid
        collapsed, sketches = dump[1], dump[3]
        count = 1 if collapsed else len(entry_bytes) // sizeof(Entry)
        if collapsed and not self.collapsed:
            self.collapse()  # the later chunk went past the limit: so does the whole
        cdef int64_t* target = <int64_t*>malloc(max(count, 1) * sizeof(int64_t))
        if not target:
            raise MemoryError()
        try:
            for g in range(count):
                if (g & 1023) == 1023:
                    let_others_run()
                if self.collapsed:
                    gid = 0
                else:
                    klen = (entries[g + 1].off if g + 1 < count else len(arena)) - entries[g].off
                    gid = self.index.insert_hashed(keys_at + entries[g].off, klen, entries[g].hash, self.n)
                if gid < 0:  # a new group (its key now in the index): its state as it is
                    gid = self.add()
                    memcpy(self.acc + gid * self.stride, src + g * self.stride, self.stride * sizeof(double))
                else:
                    self.merge_into(gid, src + g * self.stride)
                target[g] = gid
            if self.quantiles:
                self.absorb_sketches(sketches, target)
        finally:
            free(target)
        if self.limit and self.n > self.limit:
            self.collapse()

    cdef int absorb_sketches(self, bytes sketches, const int64_t* target) except -1:
        """Add a dump's sketch entries, each to the group it merged into (target)."""
        cdef const char* p = PyBytes_AS_STRING(sketches)
        cdef Py_ssize_t i, entries = len(sketches) // 16
        cdef uint64_t key, slot
        cdef int64_t count
        for i in range(entries):
            memcpy(&key, p + 16 * i, 8)
            memcpy(&count, p + 16 * i + 8, 8)
            slot = key >> SKETCH_BITS
            key = ((<uint64_t>target[slot // self.nm] * self.nm + slot % self.nm) << SKETCH_BITS) | (
                key & ((1 << SKETCH_BITS) - 1))
            self.count_bucket(key, count)
        return 0

    cdef int merge_into(self, int64_t gid, const double* b) except -1:
        """Add the state b to group gid, as partials.merge_group (sketches apart)."""
        cdef double* dst = self.acc + gid * self.stride
        cdef Py_ssize_t m
        dst[0] += b[0]
        for m in range(self.nm):  # partials.merge_measure
            dst[1 + 5 * m] += b[1 + 5 * m]
            dst[2 + 5 * m] = dst[2 + 5 * m] + b[2 + 5 * m]
            if b[3 + 5 * m] < dst[3 + 5 * m]:
                dst[3 + 5 * m] = b[3 + 5 * m]
            if b[4 + 5 * m] > dst[4 + 5 * m]:
                dst[4 + 5 * m] = b[4 + 5 * m]
            dst[5 + 5 * m] += b[5 + 5 * m]
        return 0

    cdef int collapse(self) except -1:
        """Merge every group, in order, into group 0 under the key (): partials.collapse."""
        cdef Py_ssize_t g, i, old
        cdef SketchEntry* entries
        for g in range(1, self.n):
            self.merge_into(0, self.acc + g * self.stride)
        if self.quantiles:  # every entry now counts for group 0
            entries, old = self.gathered(), self.sused
            self.free_sketches()
            try:
                for i in range(old):
                    self.count_bucket((entries[i].key >> SKETCH_BITS) % self.nm << SKETCH_BITS
                                      | (entries[i].key & ((1 << SKETCH_BITS) - 1)),
                                      entries[i].count)
            finally:
                free(entries)
        self.n = 1
        self.index = KeySet()
        self.collapsed = True
        return 0

    cdef list sketch_dicts(self):
        """Per group, per measure: the sketch as partials keeps it ({bucket index: count})."""
        cdef Py_ssize_t i
        cdef uint64_t key, slot
        cdef SketchEntry* entries = self.gathered()
        sketches = [[{} for _ in range(self.nm)] for _ in range(self.n)]
        try:
            for i in range(self.sused):
                key = entries[i].key
                slot = key >> SKETCH_BITS
                sketches[slot // self.nm][slot % self.nm][
                    code_bucket(key & ((1 << SKETCH_BITS) - 1))] = entries[i].count
        finally:
            free(entries)
        return sketches

    def columns(self) -> list:
        """The states as the cache keeps them (cache.packed): the keys, then as
        bytes the rows (int64), each measure's count and missing (int64), its sum, minimum
        and maximum (double), and the sketch entries as (measure slot, bucket index,
        count) int64 triples in slot order, the slot being group * measures + measure."""
        cdef Py_ssize_t g, m, i, at = 0
        cdef uint64_t key
        cdef double* st
        rows = PyBytes_FromStringAndSize(NULL, self.n * 8)
        counts = PyBytes_FromStringAndSize(NULL, self.n * self.nm * 16)
        floats = PyBytes_FromStringAndSize(NULL, self.n * self.nm * 24)
        cdef int64_t* r = <int64_t*>PyBytes_AS_STRING(rows)
        cdef int64_t* c = <int64_t*>PyBytes_AS_STRING(counts)
        cdef double* f = <double*>PyBytes_AS_STRING(floats)
        for g in range(self.n):
            r[g] = <int64_t>self.acc[g * self.stride]
            for m in range(self.nm):
                st = self.acc + g * self.stride + 1 + 5 * m
                c[2 * (g * self.nm + m)] = <int64_t>st[0]
                c[2 * (g * self.nm + m) + 1] = <int64_t>st[4]
                memcpy(f + 3 * (g * self.nm + m), st + 1, 3 * sizeof(double))
        cdef Py_ssize_t used = self.sused if self.quantiles else 0
        sketches = PyBytes_FromStringAndSize(NULL, used * 24)
        cdef int64_t* e = <int64_t*>PyBytes_AS_STRING(sketches)
        cdef SketchEntry* entries = self.gathered() if used else NULL
        at = used
        try:
            if used:  # by slot already; by bucket within each slot too: they compress
                sort_sketch_entries(entries, at, entries[at - 1].key | ((1 << SKETCH_BITS) - 1))
        except MemoryError:
            free(entries)
            raise
        for i in range(at):
            key = entries[i].key
            e[3 * i] = <int64_t>(key >> SKETCH_BITS)
            e[3 * i + 1] = code_bucket(key & ((1 << SKETCH_BITS) - 1))
            e[3 * i + 2] = entries[i].count
        free(entries)
        return [[list(self.key(g)) for g in range(self.n)], rows, counts, floats, sketches,
                bool(self.quantiles)]

    def groups(self) -> dict:
        """The partial states as partials lists. They hold numbers and int dicts only, so
        they can never be part of a reference cycle: the cycle collector is told to skip
        them (else its next pass walks every one of them, 0.1 s for 80,000 groups). The
        interpreter is let go now and then: other threads (a pool's feeder) keep going."""
        cdef Py_ssize_t g, m
        cdef double* st
        cdef list measures, state
        sketches = self.sketch_dicts() if self.quantiles else None
        result = {}
        for g in range(self.n):
            if (g & 1023) == 1023:
                let_others_run()
            measures = []
            for m in range(self.nm):
                st = self.acc + g * self.stride + 1 + 5 * m
                sketch = sketches[g][m] if self.quantiles else None
                if sketch is not None:
                    PyObject_GC_UnTrack(<void*>sketch)
                state = [<int64_t>st[0], st[1], st[2], st[3], <int64_t>st[4], sketch]
                PyObject_GC_UnTrack(<void*>state)
                measures.append(state)
            PyObject_GC_UnTrack(<void*>measures)
            state = [<int64_t>self.acc[g * self.stride], measures]
            PyObject_GC_UnTrack(<void*>state)
            result[self.key(g)] = state
        return result

    cdef tuple key(self, Py_ssize_t g):
        """Group g's key: its cells' texts (() once collapsed), from the index's bytes."""
        if self.collapsed:
            return ()
        key = decode_key(self.index.arena + self.index.entries[g].off, self.index.key_len(g))
        PyObject_GC_UnTrack(<void*>key)  # a tuple of str: never in a cycle (see groups)
        return key


DEF RUNS = 16  # sequence.RUNS
DEF SEQ_STRIDE = 6 + 2 * RUNS  # late, latest, runs kept, has rest, rest, rest duplicates, runs


@cython.final
cdef class SeqAcc:
    """One Sequence's states in C, per station: sequence.py's [late, latest, runs, rest,
    rest_duplicates] as int64s, the runs as (time, readings) pairs."""

    cdef KeySet index  # the stations' texts, entry s for station s
    cdef int key, time
    cdef int64_t* st
    cdef Py_ssize_t n, cap, limit  # limit: at most this many stations (0: no limit)
    cdef bint over  # past the limit: no station is followed any more

    def __cinit__(self, sequence):
        self.index = KeySet()
        self.key, self.time, self.limit = sequence.key, sequence.time, sequence.limit
        self.over = False
        self.cap = 16
        self.st = <int64_t*>malloc(self.cap * SEQ_STRIDE * sizeof(int64_t))
        if not self.st:
            raise MemoryError()

    def __dealloc__(self):
        free(self.st)

    cdef int add(self, const char* key, Py_ssize_t klen, int64_t time) except -1:
        """One reading of a station, listed after all before (sequence.add); 0 if no station
        is followed any more (past the limit), else 1."""
        cdef int64_t sid
        cdef int64_t* s
        if self.over:
            return 0
        sid = self.index.insert(key, klen, self.n)
        if sid < 0:
            if self.limit and self.n >= self.limit:  # sequence.overflowed: let the states go
                self.over = True
                self.index = KeySet()
                self.n = 0
                self.st = <int64_t*>resized(self.st, SEQ_STRIDE, sizeof(int64_t))
                self.cap = 1
                return 0  # sequence.overflowed: nothing is placed any more
            if self.n == self.cap:
                self.st = <int64_t*>resized(self.st, self.cap * 2 * SEQ_STRIDE, sizeof(int64_t))
                self.cap *= 2
            s = self.st + self.n * SEQ_STRIDE
            s[0] = 0
            s[1] = time
            s[2] = 1
            s[3] = 0
            s[4] = 0
            s[5] = 0
            s[6] = time
            s[7] = 1
            self.n += 1
            return 1
        s = self.st + sid * SEQ_STRIDE
        if time < s[1]:
            s[0] += 1
        elif time == s[1]:
            if s[3]:
                s[5] += 1
            else:
                s[5 + 2 * s[2]] += 1  # the last run's readings
        else:
            s[1] = time
            if s[3]:
                pass
            elif s[2] < RUNS:
                s[6 + 2 * s[2]] = time
                s[7 + 2 * s[2]] = 1
                s[2] += 1
            else:
                s[3] = 1
                s[4] = time
        return 1

    def states(self) -> dict:
        """{station: [late, latest, [[time, readings]...], rest or None, rest_duplicates]}
        (past the limit: {OVER: [0, 0, [], None, 0]})."""
        cdef Py_ssize_t g, r
        cdef int64_t* s
        if self.over:
            return {"": [0, 0, [], None, 0]}
        result = {}
        for g in range(self.n):
            s = self.st + g * SEQ_STRIDE
            runs = [[s[6 + 2 * r], s[7 + 2 * r]] for r in range(s[2])]
            station = PyUnicode_DecodeUTF8(
                self.index.arena + self.index.entries[g].off, self.index.key_len(g), NULL
            )
            result[station] = [s[0], s[1], runs, s[4] if s[3] else None, s[5]]
        return result


# the types whose values have canonical bytes (canon): a key of other types is a tuple
BYTE_KEY_TYPES = frozenset({"string", "integer", "number", "boolean", "date", "datetime", "year"})


@cython.final
cdef class KeyRows:
    """One group of fields that a foreign key uses: its distinct values and the rows of
    each, kept in C and made Python objects once per value. Values are told apart by
    their canonical bytes, or as tuples when a field's type has none (time, geopoint...)."""

    cdef KeySet index
    cdef dict by_value  # value tuple -> key number, when the fields have no canonical bytes
    cdef list values  # the reference's value tuple of each distinct key, by key number
    cdef int* fields
    cdef int nfields
    cdef int64_t* key_of_row
    cdef int64_t* row_of
    cdef Py_ssize_t n, cap

    def __cinit__(self, group, plan_fields):
        self.index = KeySet()
        self.values = []
        byte_keys = all(
            plan_fields[i].type in BYTE_KEY_TYPES or field_kind(plan_fields[i]) == K_STR
            for i in group
        )
        self.by_value = None if byte_keys else {}
        self.nfields = len(group)
        self.fields = <int*>malloc(max(self.nfields, 1) * sizeof(int))
        self.cap = 1024
        self.key_of_row = <int64_t*>malloc(self.cap * sizeof(int64_t))
        self.row_of = <int64_t*>malloc(self.cap * sizeof(int64_t))
        if not self.fields or not self.key_of_row or not self.row_of:
            raise MemoryError()
        for i, index in enumerate(group):
            self.fields[i] = index

    def __dealloc__(self):
        free(self.fields)
        free(self.key_of_row)
        free(self.row_of)

    cdef int64_t number(self, const char* key, Py_ssize_t klen) except -2:
        """The key's number, or -1 if it is new (it then gets number len(values))."""
        if klen < 0:  # NaN is unequal to itself: every one is a new key, as in a set
            return -1
        return self.index.insert(key, klen, len(self.values))

    cdef int add(self, int64_t number, int64_t row) except -1:
        if self.n == self.cap:
            self.key_of_row = <int64_t*>resized(self.key_of_row, self.cap * 2, sizeof(int64_t))
            self.row_of = <int64_t*>resized(self.row_of, self.cap * 2, sizeof(int64_t))
            self.cap *= 2
        self.key_of_row[self.n] = number
        self.row_of[self.n] = row
        self.n += 1
        return 0

    def key_set(self) -> set:
        return set(self.values)

    def key_rows(self) -> dict:
        """{value tuple: [rows]} in first-seen order, as the reference's dict."""
        cdef Py_ssize_t i
        cdef list rows = [[] for _ in self.values]
        for i in range(self.n):
            rows[self.key_of_row[i]].append(self.row_of[i])
        result = {}
        for value, found in zip(self.values, rows):
            result.setdefault(value, []).extend(found)
        return result


# --- the CSV reader -------------------------------------------------------------------

# a record's end: 0 row ended by a line break or the data's end, -1 no more records,
# -2 a format error Python's csv module would raise (the detail is asked from it)
DEF END_ROW = 0
DEF END_DATA = -1
DEF END_ERROR = -2
# why a record is over the plan's limits (plan.CsvLimits), if it is
DEF OVER_NONE = 0
DEF OVER_CELLS = 1
DEF OVER_CELL = 2
DEF OVER_ROW = 3
# why a record is not well-formed CSV (END_ERROR)
DEF FAULT_EOF = 1
DEF FAULT_AFTER_QUOTE = 2
DEF PREVIEW_BYTES = 320  # enough UTF-8 for the PREVIEW characters an oversized cell's error keeps


@cython.final
cdef class Scan:
    """The state of one scan over a byte range of a CSV file."""

    cdef object plan, errors, labels, values, checks_py, slow_fields, key_fields
    cdef object key_groups, field_objs, sequences
    cdef object missing_lists, bool_lists, scanner, pattern_calls, header_rows, memos
    cdef object data
    cdef const unsigned char[::1] view
    cdef const char* buf
    cdef Py_ssize_t pos, stop
    cdef char delim, quote
    cdef bint doublequote, skipspace
    # limits (plan.CsvLimits): a quoted cell keeps at most copy_cell bytes, a record copy_row
    cdef Py_ssize_t max_cell, max_row, max_cells, copy_cell, copy_row
    cdef int over, fault
    cdef Py_ssize_t over_index, over_size, dropped, dropped_bytes
    cdef public bint ended  # a header row was over a limit: the scan ended there
    # the current record's cells (cell_size: the value's bytes, cell_len: those kept)
    cdef const char** cell_ptr
    cdef Py_ssize_t* cell_len
    cdef Py_ssize_t* cell_size
    cdef Py_ssize_t* cell_off
    cdef bint* cell_copied
    cdef Py_ssize_t ncells, cells_cap
    cdef char* scratch
    cdef Py_ssize_t scratch_len, scratch_cap
    # fields
    cdef Spec* specs
    cdef Check* checks
    cdef Py_ssize_t nfields, width
    cdef int* vstat
    cdef int64_t* ival
    cdef double* dval
    cdef bint* vaware
    cdef int* pk
    cdef Py_ssize_t npk
    cdef int ordered  # the sequence whose order proves the primary key (-1: keys are kept)
    cdef public int64_t unplaced  # keyed rows that sequence did not place (no proof then)
    # keys and groups
    cdef public KeyIndex primary
    cdef Scan verifier
    cdef int64_t first_row
    cdef int64_t* ckpt  # offset of every CHECKPOINT_EVERY-th record from the range's start
    cdef Py_ssize_t nckpt, ckpt_cap
    # streaming: pages behind the cursor are given back; UTF-8 is checked ahead of it
    cdef public bint release
    cdef Py_ssize_t released, valid_upto
    cdef public bint bad_utf8
    cdef public list uniques
    cdef char* key
    cdef Py_ssize_t key_cap
    cdef public list groups
    cdef public int64_t rows
    cdef int64_t max_header
    cdef public bint format_error
    # primary keys of the last rows, looked up a batch at a time (their slots prefetched)
    cdef Pending* pending
    cdef int npending
    # or, in a chunk of a parallel scan, every key's (tag, row), in parts by tag
    cdef public int key_parts
    cdef uint32_t** part_tags
    cdef int64_t** part_rows
    cdef Py_ssize_t* part_n
    cdef Py_ssize_t* part_cap
    cdef char* pending_keys
    cdef Py_ssize_t pending_keys_len, pending_keys_cap
    cdef object above  # the header cell last added at each place (add_header_row)

    def __cinit__(self):
        self.cells_cap = 64
        self.cell_ptr = <const char**>malloc(self.cells_cap * sizeof(char*))
        self.cell_len = <Py_ssize_t*>malloc(self.cells_cap * sizeof(Py_ssize_t))
        self.cell_size = <Py_ssize_t*>malloc(self.cells_cap * sizeof(Py_ssize_t))
        self.cell_off = <Py_ssize_t*>malloc(self.cells_cap * sizeof(Py_ssize_t))
        self.cell_copied = <bint*>malloc(self.cells_cap * sizeof(bint))
        self.scratch_cap = 256
        self.scratch = <char*>malloc(self.scratch_cap)
        self.key_cap = 256
        self.key = <char*>malloc(self.key_cap)
        self.ckpt_cap = 64
        self.ckpt = <int64_t*>malloc(self.ckpt_cap * sizeof(int64_t))
        self.pending = <Pending*>malloc(PK_BATCH * sizeof(Pending))
        self.pending_keys_cap = 1024
        self.pending_keys = <char*>malloc(self.pending_keys_cap)
        self.valid_upto = -1  # no UTF-8 check unless asked (check_utf8)

    def __dealloc__(self):
        free(self.cell_ptr)
        free(self.cell_len)
        free(self.cell_size)
        free(self.cell_off)
        free(self.cell_copied)
        free(self.scratch)
        free(self.key)
        free(self.ckpt)
        free(self.specs)
        free(self.checks)
        free(self.vstat)
        free(self.ival)
        free(self.dval)
        free(self.vaware)
        free(self.pk)
        free(self.pending)
        free(self.pending_keys)
        cdef int p
        for p in range(self.key_parts):
            free(self.part_tags[p])
            free(self.part_rows[p])
        free(self.part_tags)
        free(self.part_rows)
        free(self.part_n)
        free(self.part_cap)

    def __init__(self, data, plan, Py_ssize_t start, Py_ssize_t stop, width=None):
        self.data = data
        self.view = data
        self.buf = <const char*>&self.view[0] if self.view.shape[0] else EMPTY
        self.stop = max(0, min(stop, self.view.shape[0]))  # never past the data
        self.pos = max(0, min(start, self.stop))
        self.plan = plan
        d = plan.dialect
        self.delim = ord(d.delimiter)
        self.quote = ord(d.quote_char)
        self.doublequote = d.double_quote
        self.skipspace = d.skip_initial_space
        limits = plan.limits
        self.max_cell, self.max_row, self.max_cells = limits
        self.copy_cell = max(self.max_cell + 1, PREVIEW_BYTES)
        self.copy_row = self.max_row + PREVIEW_BYTES + 1
        self.header_rows = frozenset(d.header_rows)
        self.max_header = max(d.header_rows, default=0)
        self.scanner = reference.Scanner(plan)  # its labels() check and error list
        self.errors = self.scanner.errors
        self.labels = []
        self.above = {}  # the header cell last added at each place (add_header_row)
        self.nfields = len(plan.fields)
        self.width = self.nfields if width is None else width
        self.compile_fields(plan)
        if any(index >= self.width for index in plan.primary_key):
            self.npk = 0  # a key field with no label: no key (Scanner.labels)
        self.ordered = plan.ordered_key if self.npk else -1
        self.key_groups = [KeyRows(group, plan.fields) for group in plan.key_sets]
        self.primary = KeyIndex()
        self.groups = [GroupAcc(group_by) for group_by in plan.aggregates]
        self.sequences = [SeqAcc(sequence) for sequence in plan.sequences]

    def compile_fields(self, plan):
        cdef Py_ssize_t n = max(self.nfields, 1), i
        cdef Spec* s
        self.specs = <Spec*>malloc(n * sizeof(Spec))
        self.vstat = <int*>malloc(n * sizeof(int))
        self.ival = <int64_t*>malloc(n * sizeof(int64_t))
        self.dval = <double*>malloc(n * sizeof(double))
        self.vaware = <bint*>malloc(n * sizeof(bint))
        self.npk = len(plan.primary_key)
        self.pk = <int*>malloc(max(self.npk, 1) * sizeof(int))
        for i, index in enumerate(plan.primary_key):
            self.pk[i] = index
        checks = []
        self.checks_py = []
        self.memos = []
        self.uniques = []
        self.field_objs = list(plan.fields)
        self.missing_lists = [[m.encode() for m in f.missing_values] for f in plan.fields]
        self.bool_lists = [
            ([v.encode() for v in f.true_values], [v.encode() for v in f.false_values])
            for f in plan.fields
        ]
        self.values = [None] * self.nfields
        for i, field in enumerate(plan.fields):
            s = &self.specs[i]
            constraints = dict(field.constraints)
            s.kind = field_kind(field)
            s.required = bool(constraints.get("required"))
            s.keyed = i in plan.primary_key
            s.empty_missing = tuple(field.missing_values) == ("",)
            s.unique = -1
            if constraints.get("unique"):
                s.unique = len(self.uniques)
                self.uniques.append(KeySet())
            s.first_check = len(checks)
            if s.kind != K_SLOW:
                for name, rule in field.constraints:
                    if name in ("required", "unique"):
                        continue
                    planned = check_plan(field, s.kind, name, rule)
                    if planned == "skip":
                        continue
                    one = field._replace(constraints=((name, rule),))
                    self.checks_py.append((name, one, None))
                    self.memos.append(KeySet() if name == "pattern" else None)
                    op, ilim, dlim = planned if planned is not None else (C_PY, 0, 0.0)
                    checks.append((op, ilim, dlim, len(self.checks_py) - 1))
            s.checks = len(checks) - s.first_check
        self.checks = <Check*>malloc(max(len(checks), 1) * sizeof(Check))
        for i, (op, ilim, dlim, index) in enumerate(checks):
            self.checks[i].op = op
            self.checks[i].ilim = ilim
            self.checks[i].dlim = dlim
            self.checks[i].index = index

    # --- reading records ----------------------------------------------------------------

    cdef inline int add_cell(self, const char* p, Py_ssize_t n, bint copied,
                             Py_ssize_t size) except -1:
        """Add a cell of size bytes (n of them kept at p); past max_cells, only count it."""
        if self.ncells == self.cells_cap:
            if self.ncells > self.max_cells:  # too many cells: the record is over a limit
                self.dropped += 1
                self.dropped_bytes += size
                return 0  # not kept
            self.cells_cap *= 2
            self.cell_ptr = <const char**>resized(self.cell_ptr, self.cells_cap, sizeof(char*))
            self.cell_len = <Py_ssize_t*>resized(self.cell_len, self.cells_cap, sizeof(Py_ssize_t))
            self.cell_size = <Py_ssize_t*>resized(self.cell_size, self.cells_cap, sizeof(Py_ssize_t))
            self.cell_off = <Py_ssize_t*>resized(self.cell_off, self.cells_cap, sizeof(Py_ssize_t))
            self.cell_copied = <bint*>resized(self.cell_copied, self.cells_cap, sizeof(bint))
        self.cell_ptr[self.ncells] = p
        self.cell_len[self.ncells] = n
        self.cell_size[self.ncells] = size
        self.cell_copied[self.ncells] = copied
        self.ncells += 1
        return 1

    cdef int copy(self, const char* p, Py_ssize_t n, Py_ssize_t mark) except -1:
        """Copy a part of a quoted cell that began at scratch offset mark: only as much as
        the limits need (copy_cell bytes a cell, copy_row a record); the rest is counted."""
        n = min(n, self.copy_cell - (self.scratch_len - mark), self.copy_row - self.scratch_len)
        if n <= 0:
            return 0
        self.scratch = grow_bytes(self.scratch, &self.scratch_cap, self.scratch_len + n)
        memcpy(self.scratch + self.scratch_len, p, n)
        self.scratch_len += n
        return 0

    cdef inline Py_ssize_t line_end(self, Py_ssize_t i) noexcept:
        """Position after the line break at i (CRLF is one break)."""
        if self.buf[i] == 13 and i + 1 < self.stop and self.buf[i + 1] == 10:
            return i + 2
        return i + 1

    cdef int quoted(self) except -3:
        """Read a quoted cell at self.pos (after the quote); END_ROW/1 (more cells)/END_ERROR."""
        cdef const char* b = self.buf
        cdef Py_ssize_t i = self.pos, start = self.pos, q, mark = self.scratch_len, size = 0
        cdef bint copied = False
        cdef char c
        cdef const char* hit
        while True:
            hit = <const char*>memchr(b + i, self.quote, self.stop - i)
            if hit == NULL:
                self.fault = FAULT_EOF
                return END_ERROR  # unexpected end of data
            q = hit - b
            if self.doublequote and q + 1 < self.stop and b[q + 1] == self.quote:
                copied = True
                self.copy(b + i, q + 1 - i, mark)
                size += q + 1 - i
                i = q + 2
                continue
            break
        if not self.doublequote:
            # the quoted part ends; the rest up to a delimiter or a line break is plain text
            copied = True
            self.copy(b + i, q - i, mark)
            size += q - i
            i = q + 1
            start = i
            while i < self.stop and b[i] != self.delim and b[i] != 10 and b[i] != 13:
                i += 1
            self.copy(b + start, i - start, mark)
            size += i - start
            q = i - 1  # as if the closing quote were just before the separator
        if copied:
            if self.doublequote:
                self.copy(b + i, q - i, mark)
                size += q - i
            if self.add_cell(NULL, self.scratch_len - mark, True, size):
                self.cell_off[self.ncells - 1] = mark
        else:
            self.add_cell(b + start, q - start, False, q - start)
        i = q + 1
        if i >= self.stop:
            self.pos = i
            return END_ROW
        c = b[i]
        if c == self.delim:
            self.pos = i + 1
            return 1
        if c == 10 or c == 13:
            self.pos = self.line_end(i)
            return END_ROW
        self.fault = FAULT_AFTER_QUOTE
        return END_ERROR  # "'<delimiter>' expected after '<quote>'"

    cdef int record(self) except -3:
        """Split the next record into cells; END_ROW, END_DATA or END_ERROR."""
        cdef const char* b = self.buf
        cdef Py_ssize_t i, start
        cdef char c, delim = self.delim
        cdef int status
        self.ncells = 0
        self.scratch_len = 0
        self.dropped = self.dropped_bytes = 0
        self.over = OVER_NONE
        if self.pos >= self.stop:
            return END_DATA
        c = b[self.pos]
        if c == 10 or c == 13:
            self.pos = self.line_end(self.pos)
            return END_ROW
        while True:
            i = self.pos
            if self.skipspace:
                while i < self.stop and b[i] == 32:
                    i += 1
            if i >= self.stop:
                self.add_cell(b + i, 0, False, 0)
                self.pos = i
                break
            c = b[i]
            if c == self.quote:
                self.pos = i + 1
                status = self.quoted()
                if status == END_ERROR:
                    return END_ERROR
                if status == END_ROW:
                    break
                if self.pos >= self.stop:  # a delimiter ends the data: one more empty cell
                    self.add_cell(b + self.pos, 0, False, 0)
                    break
                continue
            start = i
            while i < self.stop:
                c = b[i]
                if c == delim or c == 10 or c == 13:
                    break
                i += 1
            self.add_cell(b + start, i - start, False, i - start)
            if i >= self.stop:
                self.pos = i
                break
            if c == delim:
                self.pos = i + 1
                if self.pos >= self.stop:
                    self.add_cell(b + self.pos, 0, False, 0)
                    break
                continue
            self.pos = self.line_end(i)
            break
        cdef Py_ssize_t total = 0, largest = 0
        for i in range(self.ncells):
            if self.cell_copied[i]:
                self.cell_ptr[i] = self.scratch + self.cell_off[i]
            total += self.cell_size[i]
            if self.cell_size[i] > largest:
                largest = self.cell_size[i]
        if largest > self.max_cell or total > self.max_row or self.ncells > self.max_cells:
            self.weigh(total + self.dropped_bytes)
        return END_ROW

    cdef void weigh(self, Py_ssize_t total) noexcept:
        """Note the first limit the record crossed, as reference.breach: too many cells,
        a cell too large or the row too large, in the order they are read."""
        cdef Py_ssize_t i, before = 0, size
        for i in range(min(self.ncells, self.max_cells)):
            size = self.cell_size[i]
            if size > self.max_cell and self.max_cell <= self.max_row - before:
                self.over, self.over_index, self.over_size = OVER_CELL, i, size
                return
            before += size
            if before > self.max_row:
                self.over, self.over_size = OVER_ROW, total
                return
        if self.ncells + self.dropped > self.max_cells:
            self.over, self.over_size = OVER_CELLS, self.ncells + self.dropped

    cdef str text(self, Py_ssize_t i):
        return PyUnicode_DecodeUTF8(self.cell_ptr[i], self.cell_len[i], NULL)

    cdef list texts(self):
        return [self.text(i) for i in range(self.ncells)]

    # --- checking one row ---------------------------------------------------------------

    cdef inline bint is_missing(self, Py_ssize_t index, const char* p, Py_ssize_t n):
        if self.specs[index].empty_missing:
            return n == 0
        for m in self.missing_lists[index]:
            if PyBytes_GET_SIZE(m) == n and memcmp(PyBytes_AS_STRING(m), p, n) == 0:
                return True
        return False

    cdef inline int fast(self, Py_ssize_t index, const char* p, Py_ssize_t n) except -1:
        """1 if the C path read the cell (value in ival/dval), 0 to let Python decide."""
        cdef Spec* s = &self.specs[index]
        cdef int kind = s.kind
        cdef Num num
        cdef bytes v
        if kind == K_STR:
            return 1
        if kind == K_INT:
            return parse_int(p, n, &self.ival[index])
        if kind == K_NUM:
            if not parse_number(p, n, &num, False):
                return 0
            self.dval[index] = num.value
            return 1
        if kind == K_DATE:
            return parse_date(p, n, &self.ival[index])
        if kind == K_DTIME:
            return parse_datetime(p, n, &self.ival[index], &self.vaware[index])
        if kind == K_YEAR:
            if n != 4 or not (is_digit(p[0]) and is_digit(p[1]) and is_digit(p[2]) and is_digit(p[3])):
                return 0
            self.ival[index] = (p[0] - 48) * 1000 + (p[1] - 48) * 100 + (p[2] - 48) * 10 + (p[3] - 48)
            return 1
        if kind == K_BOOL:
            trues, falses = self.bool_lists[index]
            for v in trues:
                if PyBytes_GET_SIZE(v) == n and memcmp(PyBytes_AS_STRING(v), p, n) == 0:
                    self.ival[index] = 1
                    return 1
            for v in falses:
                if PyBytes_GET_SIZE(v) == n and memcmp(PyBytes_AS_STRING(v), p, n) == 0:
                    self.ival[index] = 0
                    return 1
            return 0
        return 0

    cdef object py_value(self, Py_ssize_t index):
        """The reference's typed value of a cell the C path accepted."""
        cdef int kind = self.specs[index].kind
        if kind == K_STR:
            return self.text(index)
        if kind == K_INT or kind == K_YEAR:
            return self.ival[index]
        if kind == K_BOOL:
            return self.ival[index] == 1
        return cast(self.field_objs[index], self.text(index))

    cdef inline int breaks(self, Py_ssize_t index, Check* c) except -1:
        cdef Spec* s = &self.specs[index]
        cdef int op = c.op
        cdef Py_ssize_t length
        cdef double v, lim
        cdef int64_t iv
        if op == C_MINLEN or op == C_MAXLEN:
            length = codepoints(self.cell_ptr[index], self.cell_len[index])
            return length < c.ilim if op == C_MINLEN else length > c.ilim
        if op == C_PATTERN:
            return self.pattern(index, c)
        if op == C_PY:
            return self.py_breaks(index, c)
        if s.kind == K_NUM:
            v = self.dval[index]
            lim = c.dlim
            if v == lim:
                return self.py_breaks(index, c)  # equal as floats: let Decimal decide
            if op == C_MIN or op == C_XMIN:
                return v < lim
            return v > lim
        iv = self.ival[index]
        if op == C_MIN:
            return iv < c.ilim
        if op == C_MAX:
            return iv > c.ilim
        if op == C_XMIN:
            return iv <= c.ilim
        return iv >= c.ilim

    cdef int py_breaks(self, Py_ssize_t index, Check* c) except -1:
        name, one, cache = self.checks_py[c.index]
        text = self.text(index)
        return broken_constraint(one, text, self.py_value(index)) is not None

    cdef int pattern(self, Py_ssize_t index, Check* c) except -1:
        """The pattern verdict, remembered per distinct cell (exact bytes) up to a bound."""
        cdef KeySet memo = self.memos[c.index]
        cdef const char* p = self.cell_ptr[index]
        cdef Py_ssize_t n = self.cell_len[index]
        cdef Py_ssize_t found = memo.find(p, n, hash_bytes(p, n))
        cdef int verdict
        if found >= 0:
            return <int>memo.entries[found].row
        name, one, _ = self.checks_py[c.index]
        verdict = broken_constraint(one, self.text(index), None) is not None
        if memo.n < PATTERN_CACHE:
            memo.insert(p, n, verdict)
        return verdict

    cdef int cell(self, int64_t row, Py_ssize_t index) except -1:
        """Check one present cell; set vstat. Mirrors Scanner.cell."""
        cdef Spec* s = &self.specs[index]
        cdef const char* p = self.cell_ptr[index]
        cdef Py_ssize_t n = self.cell_len[index], k
        cdef int64_t first
        cdef KeySet ks
        if self.is_missing(index, p, n):
            if s.required:
                self.errors.append((row, index + 1, "constraint-error", self.text(index), "required"))
            self.vstat[index] = V_NONE
            return 0
        if s.kind != K_SLOW and self.fast(index, p, n):
            self.vstat[index] = V_C
            for k in range(s.first_check, s.first_check + s.checks):
                if self.breaks(index, &self.checks[k]):
                    name = self.checks_py[self.checks[k].index][0]
                    self.errors.append((row, index + 1, "constraint-error", self.text(index), name))
                    break
        else:
            field = self.field_objs[index]
            text = self.text(index)
            value = cast(field, text)
            if value is NOT_CAST:
                self.errors.append((row, index + 1, "type-error", text, field.type))
                self.vstat[index] = V_NONE
                return 0
            broken = broken_constraint(field, text, value)
            if broken:
                self.errors.append((row, index + 1, "constraint-error", text, broken))
            self.values[index] = value
            self.vstat[index] = V_PY
        if s.unique >= 0:
            k = self.canon_key(index, 0)
            if k >= 0:
                ks = self.uniques[s.unique]
                first = ks.insert(self.key, k, row)
                if first >= 0:
                    self.errors.append((row, index + 1, "unique-error", self.text(index), str(first)))
        return 0

    cdef int reserve_key(self, Py_ssize_t size) except -1:
        self.key = grow_bytes(self.key, &self.key_cap, size)
        return 0

    cdef Py_ssize_t canon_key(self, Py_ssize_t index, Py_ssize_t at) except -2:
        """Write the canonical bytes of a value at self.key[at:]; its end, or -1 for NaN."""
        cdef int kind = self.specs[index].kind
        cdef Py_ssize_t n = self.cell_len[index], i
        cdef Num num
        cdef char* out
        cdef uint64_t m
        cdef char digits[24]
        cdef int nd = 0
        if self.vstat[index] == V_PY:
            encoded = canon(self.values[index])
            if encoded is None:
                return -1
            self.reserve_key(at + PyBytes_GET_SIZE(encoded))
            memcpy(self.key + at, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded))
            return at + PyBytes_GET_SIZE(encoded)
        self.reserve_key(at + n + 40)
        out = self.key + at
        if kind == K_STR:
            out[0] = 115  # s
            memcpy(out + 1, self.cell_ptr[index], n)
            return at + 1 + n
        if kind == K_INT or kind == K_YEAR:
            out[0] = 105  # i
            memcpy(out + 1, &self.ival[index], 8)
            return at + 9
        if kind == K_BOOL:
            out[0] = 98  # b
            out[1] = 49 if self.ival[index] else 48
            return at + 2
        if kind == K_DATE:
            out[0] = 100  # d
            memcpy(out + 1, &self.ival[index], 8)
            return at + 9
        if kind == K_DTIME:
            out[0] = 65 if self.vaware[index] else 78  # A N
            memcpy(out + 1, &self.ival[index], 8)
            return at + 9
        # K_NUM: D0, or D, sign, exponent, significant digits
        parse_number(self.cell_ptr[index], n, &num)
        out[0] = 68  # D
        if num.mantissa == 0:
            out[1] = 48
            return at + 2
        out[1] = 45 if num.negative else 43
        memcpy(out + 2, &num.exponent, 8)
        m = num.mantissa
        while m:
            digits[nd] = <char>(48 + m % 10)
            m //= 10
            nd += 1
        for i in range(nd):
            out[10 + i] = digits[nd - 1 - i]
        return at + 10 + nd

    cdef Py_ssize_t composite(self, int* indexes, Py_ssize_t count) except -2:
        """Length-prefixed canonical bytes of several cells, or -1 if one is NaN; a cell
        with no value (a primary key's) is the length -1 alone."""
        cdef Py_ssize_t at = 0, end, i
        cdef int32_t length
        for i in range(count):
            self.reserve_key(at + 4)
            if self.vstat[indexes[i]] == V_NONE:
                length = -1
                memcpy(self.key + at, &length, 4)
                at += 4
                continue
            end = self.canon_key(indexes[i], at + 4)
            if end < 0:
                return -1
            length = <int32_t>(end - at - 4)
            memcpy(self.key + at, &length, 4)
            at = end
        return at

    cdef int row(self, int64_t row) except -1:
        """Check one data row and collect its keys. Mirrors Scanner.row."""
        cdef Py_ssize_t i, ncells = self.ncells, nfields = self.nfields
        cdef Py_ssize_t klen
        cdef int64_t first
        cdef uint64_t tag = 0
        cdef bint blank = True
        cdef bint keyed = False
        self.rows += 1
        for i in range(ncells):
            if nfields == 0:
                blank = self.cell_len[i] == 0
            else:
                blank = self.is_missing(0, self.cell_ptr[i], self.cell_len[i])
            if not blank:
                break
        if blank:
            self.errors.append((row, 0, "blank-row", "", ""))
            return 0
        for i in range(nfields):
            if i >= ncells:
                if i < self.width:
                    self.errors.append((row, i + 1, "missing-cell", "", ""))
                self.vstat[i] = V_NONE
                continue
            self.cell(row, i)
        if ncells != nfields or ncells < self.width:
            for i in range(max(nfields, ncells), self.width):  # past the fields, to the header
                self.errors.append((row, i + 1, "missing-cell", "", ""))
            for i in range(max(nfields, self.width), ncells):
                self.errors.append((row, i + 1, "extra-cell", self.text(i), ""))
        klen = -1
        if self.npk:
            for i in range(self.npk):
                if self.vstat[self.pk[i]] != V_NONE:
                    keyed = True
                    break
            else:  # every key cell empty or not of its type: the row has no key
                self.errors.append((row, 0, "primary-key", "", ""))
            if keyed and self.ordered < 0:  # else its station's order proves it (in_order)
                klen = self.composite(self.pk, self.npk)
            if klen >= 0 and self.key_parts:  # another process looks the key up
                self.defer_key(hash_bytes(self.key, klen) >> 32, row)
                klen = -1
            elif klen >= 0:  # fetch the key's slot now, look it up a few rows later
                tag = hash_bytes(self.key, klen) >> 32
                prefetch(&self.primary.slots[tag & self.primary.mask])
                self.keep_key(tag, row, klen)
        if self.key_groups:
            self.collect(row)
        if self.groups:
            self.aggregate(row)  # uses self.key as scratch
        if self.sequences and not self.in_order() and keyed and self.ordered >= 0:
            self.unplaced += 1  # in_order runs first: every row's readings are counted
        if klen >= 0:
            self.pending[self.npending].errors = len(self.errors)
            self.npending += 1
            if self.npending == PK_BATCH:
                self.resolve_keys()
        return 0

    def defer_keys(self, int parts):
        """Collect (tag, row) of every primary key, in `parts` parts by tag, instead of
        looking keys up: merge_primary over each part finds the duplicates later."""
        cdef int p
        self.part_tags = <uint32_t**>calloc(parts, sizeof(uint32_t*))
        self.part_rows = <int64_t**>calloc(parts, sizeof(int64_t*))
        self.part_n = <Py_ssize_t*>calloc(parts, sizeof(Py_ssize_t))
        self.part_cap = <Py_ssize_t*>calloc(parts, sizeof(Py_ssize_t))
        if not self.part_tags or not self.part_rows or not self.part_n or not self.part_cap:
            raise MemoryError()
        self.key_parts = parts

    cdef int defer_key(self, uint64_t tag, int64_t row) except -1:
        cdef Py_ssize_t p = part_of(<uint32_t>tag, self.key_parts), cap
        if self.part_n[p] == self.part_cap[p]:
            cap = max(1024, self.part_cap[p] * 2)
            self.part_tags[p] = <uint32_t*>resized(self.part_tags[p], cap, sizeof(uint32_t))
            self.part_rows[p] = <int64_t*>resized(self.part_rows[p], cap, sizeof(int64_t))
            self.part_cap[p] = cap
        self.part_tags[p][self.part_n[p]] = <uint32_t>tag
        self.part_rows[p][self.part_n[p]] = row
        self.part_n[p] += 1
        return 0

    def deferred_keys(self) -> list:
        """Per part, (tags as uint32, rows as int64) of the keys collected (defer_keys)."""
        return [
            (PyBytes_FromStringAndSize(<char*>self.part_tags[p], self.part_n[p] * sizeof(uint32_t)),
             PyBytes_FromStringAndSize(<char*>self.part_rows[p], self.part_n[p] * sizeof(int64_t)))
            for p in range(self.key_parts)
        ]

    cdef int keep_key(self, uint64_t tag, int64_t row, Py_ssize_t klen) except -1:
        """Hold this row's primary key (in self.key) until its batch is looked up."""
        cdef Pending* p = &self.pending[self.npending]
        self.pending_keys = grow_bytes(
            self.pending_keys, &self.pending_keys_cap, self.pending_keys_len + klen
        )
        memcpy(self.pending_keys + self.pending_keys_len, self.key, klen)
        p.tag = tag
        p.row = row
        p.key_at = self.pending_keys_len
        p.key_len = klen
        self.pending_keys_len += klen
        return 0

    cdef int resolve_keys(self) except -1:
        """Look up the held keys in row order; a duplicate's error goes after its row's errors."""
        cdef Py_ssize_t i, added = 0
        cdef Pending* p
        cdef int64_t first
        for i in range(self.npending):
            p = &self.pending[i]
            first = self.seen_before(p.tag, p.row, self.pending_keys + p.key_at, p.key_len)
            if first >= 0:
                self.errors.insert(p.errors + added, (p.row, 0, "primary-key", "", str(first)))
                added += 1
        self.npending = 0
        self.pending_keys_len = 0
        return 0

    cdef int64_t seen_before(self, uint64_t tag, int64_t row, const char* key,
                             Py_ssize_t klen) except -2:
        """The first row with this primary key (its hash tag given), or -1 if none."""
        cdef uint64_t s = tag & self.primary.mask
        cdef Py_ssize_t e
        while True:
            e = self.primary.next_match(tag, &s)
            if e < 0:
                self.primary.put(s, tag, row)
                return -1
            if self.same_key(self.primary.rows[e], key, klen):
                return self.primary.rows[e]

    cdef bint same_key(self, int64_t earlier, const char* key, Py_ssize_t klen) except -1:
        """Whether the primary key of an earlier row has the bytes key[:klen]."""
        cdef Py_ssize_t vlen, lo, hi
        if self.verifier is None:
            self.verifier = Scan(self.data, self.plan, 0, self.stop, self.width)
        lo = self.ckpt[(earlier - self.first_row) >> CHECKPOINT_SHIFT]
        vlen = self.verifier.key_of(self, earlier)
        if self.release and lo < self.released:
            # give back the pages re-read, and those the kernel mapped around them
            lo = lo // FAULT_AROUND * FAULT_AROUND
            hi = min((self.verifier.pos // FAULT_AROUND + 1) * FAULT_AROUND, self.released)
            if hi > lo:
                madvise(<void*>(self.buf + lo), hi - lo, MADV_DONTNEED)
        return vlen == klen and memcmp(self.verifier.key, key, klen) == 0

    cdef Py_ssize_t key_of(self, Scan owner, int64_t row) except -2:
        """Re-read a row of owner's range and write its primary key's canonical bytes."""
        cdef int64_t k = (row - owner.first_row) >> CHECKPOINT_SHIFT
        cdef int64_t skip = row - owner.first_row - (k << CHECKPOINT_SHIFT)
        cdef Py_ssize_t i, index
        self.pos = owner.ckpt[k]
        self.stop = owner.stop
        while skip >= 0:
            if self.record() != END_ROW:
                return -1
            skip -= 1
        for i in range(self.npk):
            index = self.pk[i]
            if index >= self.ncells or self.is_missing(index, self.cell_ptr[index], self.cell_len[index]):
                self.vstat[index] = V_NONE
            elif self.specs[index].kind != K_SLOW and self.fast(index, self.cell_ptr[index], self.cell_len[index]):
                self.vstat[index] = V_C
            else:
                value = cast(self.field_objs[index], self.text(index))
                if value is NOT_CAST:
                    self.vstat[index] = V_NONE
                    continue
                self.values[index] = value
                self.vstat[index] = V_PY
        return self.composite(self.pk, self.npk)

    cdef int collect(self, int64_t row) except -1:
        """Note this row under its value of each foreign key's fields (uses self.key)."""
        cdef KeyRows group
        cdef Py_ssize_t i
        cdef int64_t number
        for group in self.key_groups:
            for i in range(group.nfields):
                if self.vstat[group.fields[i]] == V_NONE:
                    break
            else:
                group.add(self.key_number(group), row)
        return 0

    cdef int64_t key_number(self, KeyRows group) except -1:
        """The number of this row's value of the group's fields (a new one if unseen)."""
        cdef int64_t number
        if group.by_value is None:
            number = group.number(self.key, self.composite(group.fields, group.nfields))
            if number >= 0:
                return number
            value = self.key_value(group)
        else:
            value = self.key_value(group)
            found = group.by_value.get(value)
            if found is not None:
                return found
            group.by_value[value] = len(group.values)
        group.values.append(value)
        return len(group.values) - 1

    cdef tuple key_value(self, KeyRows group):
        return tuple([self.typed(i) for i in group.fields[:group.nfields]])

    cdef object typed(self, Py_ssize_t index):
        """The reference's value of a cell read without error."""
        return self.values[index] if self.vstat[index] == V_PY else self.py_value(index)

    # --- aggregates ---------------------------------------------------------------------

    cdef int aggregate(self, int64_t row) except -1:
        cdef GroupAcc acc
        cdef Py_ssize_t at, i, k, n, cut
        cdef int32_t length
        cdef int64_t gid
        cdef const char* p
        for acc in self.groups:
            if acc.collapsed:  # past its limit: one group of all rows
                self.fold(acc, 0)
                continue
            at = 0
            for k in range(acc.nk):
                i = acc.kidx[k]
                cut = acc.kcut[k]
                if i < self.ncells:
                    p = self.cell_ptr[i]
                    n = self.cell_len[i]
                else:
                    p = self.key
                    n = 0
                if 0 <= cut < n:
                    n = prefix_bytes(p, n, cut)
                self.reserve_key(at + 4 + n)
                if i < self.ncells:
                    p = self.cell_ptr[i]
                length = <int32_t>n
                memcpy(self.key + at, &length, 4)
                memcpy(self.key + at + 4, p, n)
                at += 4 + n
            gid = acc.index.insert(self.key, at, acc.n)
            if gid < 0:
                gid = acc.add()
                if acc.limit and acc.n > acc.limit:
                    acc.collapse()
                    gid = 0
            self.fold(acc, gid)
        return 0

    cdef bint in_order(self) except -1:
        """Count the row's reading in each sequence (sequence.fold_function); whether the
        sequence that proves the primary key (ordered) placed it, both its cells values."""
        cdef SeqAcc acc
        cdef int64_t time
        cdef bint placed = False
        cdef int number = -1
        for acc in self.sequences:
            number += 1
            if acc.key >= self.ncells or acc.time >= self.ncells or self.cell_len[acc.key] == 0:
                continue
            if parse_moment(self.cell_ptr[acc.time], self.cell_len[acc.time], &time):
                if acc.add(self.cell_ptr[acc.key], self.cell_len[acc.key], time) and (
                    number == self.ordered
                ):
                    placed = self.vstat[acc.key] != V_NONE and self.vstat[acc.time] != V_NONE
        return placed

    cdef int fold(self, GroupAcc acc, int64_t gid) except -1:
        """Mirrors reference.aggregate and partials.add on C doubles."""
        cdef double* g = acc.acc + gid * acc.stride
        cdef double* st
        cdef Py_ssize_t m, index
        cdef double v
        cdef int kind, status
        g[0] += 1
        acc.npending = 0  # none left over by a row whose fold raised
        for m in range(acc.nm):
            index = acc.midx[m]
            st = g + 1 + 5 * m
            status = self.vstat[index]
            if status == V_NONE:
                st[4] += 1
                continue
            kind = self.specs[index].kind
            if status == V_C and (kind == K_INT or kind == K_YEAR):
                v = <double>self.ival[index]
            elif status == V_C and kind == K_NUM:
                v = self.dval[index]
            elif status == V_C:
                v = float(self.py_value(index))
            else:
                v = float(self.values[index])
            st[0] += 1
            st[1] += v
            if v < st[2]:
                st[2] = v
            if v > st[3]:
                st[3] = v
            if acc.quantiles:
                acc.sketch(gid, m, v)
        if acc.npending:
            acc.count_pending()
        return 0

    # --- the whole range ----------------------------------------------------------------

    def run(self, int64_t first_row=1):
        """Scan records until the range's end or a format error."""
        cdef int64_t number = first_row - 1
        cdef int status
        cdef Py_ssize_t start
        self.first_row = first_row
        cdef Py_ssize_t begin = self.pos
        while True:
            start = self.pos
            if ((number + 1 - first_row) & (CHECKPOINT_EVERY - 1)) == 0:
                self.checkpoint(start)
                if (number + 1 - first_row == PRESIZE_AFTER and self.npk and not self.key_parts
                        and start > begin):
                    # as many keys ahead as rows: size the key index for them now
                    self.primary.reserve(self.primary.n + (self.stop - start) * PRESIZE_AFTER // (start - begin))
            if self.valid_upto >= 0 and start + UTF8_AHEAD > self.valid_upto:
                if not self.validate_ahead():
                    self.bad_utf8 = True
                    break
            if self.release and start - self.released > RELEASE_EVERY:
                self.release_behind(start)
            status = self.record()
            if status == END_DATA:
                break
            number += 1
            if status == END_ERROR:
                self.resolve_keys()
                self.report_format_error(start, number)
                break
            if self.over != OVER_NONE:
                self.report_over(number)
                if number <= self.max_header and number in self.header_rows:
                    self.ended = True  # a header over a limit: its labels mean nothing
                    break
                self.rows += 1
                continue
            if number <= self.max_header and number in self.header_rows:
                self.header(number)
            else:
                self.row(number)
        self.resolve_keys()
        return self

    cdef int checkpoint(self, Py_ssize_t offset) except -1:
        if self.nckpt == self.ckpt_cap:
            self.ckpt = <int64_t*>resized(self.ckpt, self.ckpt_cap * 2, sizeof(int64_t))
            self.ckpt_cap *= 2
        self.ckpt[self.nckpt] = offset
        self.nckpt += 1
        return 0

    def checkpoints(self) -> tuple:
        """(offsets of every CHECKPOINT_EVERY-th record as int64 bytes, first row): to re-read
        rows later."""
        return PyBytes_FromStringAndSize(<char*>self.ckpt, self.nckpt * sizeof(int64_t)), self.first_row

    def load_checkpoints(self, bytes offsets, int64_t first_row):
        cdef Py_ssize_t count = len(offsets) // sizeof(int64_t)
        free(self.ckpt)
        self.ckpt = <int64_t*>malloc(max(count, 1) * sizeof(int64_t))
        if not self.ckpt:
            raise MemoryError()
        memcpy(self.ckpt, PyBytes_AS_STRING(offsets), count * sizeof(int64_t))
        self.nckpt = self.ckpt_cap = max(count, 1)
        self.first_row = first_row

    def check_utf8(self):
        """Validate UTF-8 block by block ahead of the cursor (run() stops at a bad byte)."""
        self.valid_upto = self.pos

    def validate_rest(self) -> bool:
        """Finish the UTF-8 check (after a format error ended the scan early)."""
        self.stop = len(self.data)
        while self.valid_upto < self.stop:
            if not self.validate_ahead():
                return False
        return True

    cdef bint validate_ahead(self) noexcept:
        cdef Py_ssize_t end = self.valid_upto + UTF8_BLOCK
        if self.valid_upto >= self.stop:
            return True
        if end >= self.stop:
            end = self.stop
        else:
            while end > self.valid_upto and (<uint8_t>self.buf[end] & 0xC0) == 0x80:
                end -= 1  # a block ends where a character starts
        if not utf8_valid(<const uint8_t*>self.buf + self.valid_upto, end - self.valid_upto):
            return False
        self.valid_upto = end
        return True

    cdef void release_behind(self, Py_ssize_t offset) noexcept:
        """Give back the mapped pages already read (they fault back in if re-read)."""
        cdef Py_ssize_t page = 4096
        cdef Py_ssize_t lo = self.released
        cdef Py_ssize_t hi = (offset // FAULT_AROUND - 1) * FAULT_AROUND
        if hi > lo:
            madvise(<void*>(self.buf + lo), hi - lo, MADV_DONTNEED)
            self.released = hi

    cdef header(self, int64_t number):
        self.labels = reference.add_header_row(self.labels, self.above, self.texts())
        if number == self.max_header:
            self.scanner.labels(self.labels)
            self.width = self.scanner.width
            if not self.scanner.key_plans[0][0]:
                self.npk = 0  # a key field with no label: no key

    cdef report_format_error(self, Py_ssize_t start, int64_t number):
        """The complaint Python's csv module makes of this record (strict mode)."""
        self.format_error = True
        if self.fault == FAULT_EOF:
            detail = "unexpected end of data"
        else:
            detail = f"'{chr(self.delim)}' expected after '{chr(self.quote)}'"
        self.errors.append((number, 0, "format-error", "", detail))

    cdef report_over(self, int64_t number):
        """The one error of a record over a limit (reference.breach)."""
        cdef Py_ssize_t n
        if self.over == OVER_CELLS:
            detail = reference.limit_detail("too-many-cells", self.over_size, self.max_cells)
            self.errors.append((number, 0, "too-many-cells", "", detail))
        elif self.over == OVER_ROW:
            detail = reference.limit_detail("row-too-large", self.over_size, self.max_row)
            self.errors.append((number, 0, "row-too-large", "", detail))
        else:
            n = min(self.cell_len[self.over_index], PREVIEW_BYTES)
            cell = PyUnicode_DecodeUTF8(self.cell_ptr[self.over_index], n, "ignore")
            detail = reference.limit_detail("cell-too-large", self.over_size, self.max_cell)
            self.errors.append(
                (number, self.over_index + 1, "cell-too-large", cell[:reference.PREVIEW], detail)
            )

    @property
    def errors(self):
        return self.errors

    @property
    def labels(self):
        return self.labels

    @property
    def width(self):
        return self.width

    def skip(self, Py_ssize_t count):
        """Read `count` records without checking them: the offset after them, or None."""
        cdef Py_ssize_t i
        for i in range(count):
            if self.record() != END_ROW:
                return None
        return self.pos

    def result(self, bint dump_groups=False) -> ScanResult:
        """The scan's result; dump_groups: aggregates as GroupAcc dumps (for a merge)."""
        self.primary.clear()
        aggregates = [acc.dump() if dump_groups else partials.Groups(acc.groups, acc.columns)
                      for acc in self.groups]
        key_sets = [group.key_set() for group in self.key_groups]
        key_rows = [group.key_rows() for group in self.key_groups]
        sequences = [acc.states() for acc in self.sequences]
        return ScanResult(self.errors, self.rows, self.labels, key_sets, key_rows, aggregates,
                          sequences, self.unplaced)


# --- entry points ---------------------------------------------------------------------


def utf8_ok(data, Py_ssize_t start=0, Py_ssize_t stop=-1) -> bool:
    """Whether data[start:stop] is strict UTF-8."""
    cdef const unsigned char[::1] view = data
    if stop < 0:
        stop = view.shape[0]
    if stop <= start:
        return True
    return utf8_valid(<const uint8_t*>&view[0] + start, stop - start)


def count_rows(data, Py_ssize_t start, Py_ssize_t stop) -> int:
    """Line breaks in data[start:stop] (CRLF counts once): rows, when no cell is quoted."""
    cdef const unsigned char[::1] view = data
    cdef Py_ssize_t i, count = 0
    cdef const unsigned char* b = &view[0] if view.shape[0] else <const unsigned char*>EMPTY
    if stop > start and memchr(b + start, 13, stop - start) == NULL:
        for i in range(start, stop):  # no CR: a branch-free count the compiler vectorizes
            count += b[i] == 10
        return count
    for i in range(start, stop):
        if b[i] == 10:
            count += 1
        elif b[i] == 13 and not (i + 1 < stop and b[i + 1] == 10):
            count += 1
    return count


def scan_range(data, plan, Py_ssize_t start, Py_ssize_t stop, first_row=1, width=None,
               release=False, int key_parts=0, bint check_utf8=False) -> Scan:
    """Scan data[start:stop], whose first record is row first_row; the Scan keeps the keys
    (with key_parts, the primary keys are collected for merge_primary, not looked up).

    check_utf8: validate the range's UTF-8 in the record loop, block by block ahead of
    the cursor (no separate pass), and the rest of the range after a format error;
    scan.bad_utf8 tells if a byte is wrong (the rest of the result is then meaningless)."""
    cdef Scan scan = Scan(data, plan, start, stop, width)
    if key_parts:
        scan.defer_keys(key_parts)
    scan.release = release
    scan.released = start // FAULT_AROUND * FAULT_AROUND
    if not check_utf8:
        return scan.run(first_row)
    scan.check_utf8()
    try:
        scan.run(first_row)
    except UnicodeDecodeError:  # a long record reached bytes not yet validated
        scan.bad_utf8 = True
        return scan
    while not scan.bad_utf8 and scan.valid_upto < scan.stop:
        if not scan.validate_ahead():
            scan.bad_utf8 = True
    return scan


def encoding_failure(data, plan) -> ScanResult:
    """The result for data that is not UTF-8: the reference's one encoding error."""
    text, problem = reference.decode(bytes(data), plan.dialect.encoding)
    if problem is None:
        raise AssertionError("the kernel and Python disagree on UTF-8")
    return ScanResult([problem], 0, [], [set() for _ in plan.key_sets],
                      [{} for _ in plan.key_sets], [{} for _ in plan.aggregates],
                      [{} for _ in plan.sequences])


def scan_buffer(data, plan, bint release=False) -> ScanResult:
    """Scan a CSV file held in a buffer (bytes, or a read-only mmap with release=True);
    again with every primary key kept if its stations' order did not prove it unique."""
    result = scan_once(data, plan, release)
    if keys_proven(plan, result.sequences, result.unplaced):
        return result
    return scan_once(data, plan._replace(ordered_key=-1), release)


def scan_once(data, plan, bint release=False) -> ScanResult:
    """One pass of scan_buffer."""
    cdef Scan scan
    start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    enabled = gc.isenabled()
    gc.disable()  # the scan allocates few objects but keeps many: no cycles to find
    try:
        scan = Scan(data, plan, start, len(data))
        scan.release = release
        scan.check_utf8()
        try:
            scan.run(1)
        except UnicodeDecodeError:  # a long record reached bytes not yet validated
            return encoding_failure(data, plan)
        if scan.bad_utf8 or not scan.validate_rest():
            return encoding_failure(data, plan)
        return scan.result()
    finally:
        if enabled:
            gc.enable()


def scan_csv(bytes data, plan) -> ScanResult:
    """Scan the bytes of a CSV file: encoding, structure, header, types, constraints, keys."""
    if not supported(plan):
        return reference.scan_csv(data, plan)
    return scan_buffer(data, plan)


def scan_file(path, plan) -> ScanResult:
    """scan_csv of a file's bytes, read through a memory map: memory does not grow with it."""
    with open(path, "rb") as source:
        size = os.fstat(source.fileno()).st_size
        if size == 0 or not supported(plan):
            return scan_csv(source.read(), plan)
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        return scan_buffer(mapped, plan, True)
    finally:
        mapped.close()


def merge_primary(data, plan, parts) -> list:
    """Primary keys seen again: per chunk, {row: the key's first row}, as Scan.row finds them.

    parts, in file order: (tags, rows, checkpoints, first row, start, stop, shift) of each
    chunk's scan; tags and rows are lists with one bytes object per part of the keys (a key is in
    the same part in every chunk), the rows of each in order (every keyed row, or each
    key's first row in the chunk). Each part of the keys is looked up on its own, in a
    small index. A tag found again is checked exactly by re-reading both rows.
    """
    cdef Scan earlier = Scan(data, plan, 0, len(data)), later = Scan(data, plan, 0, len(data))
    cdef Scan owner
    owners = []
    starts = []
    shifts = []
    for tag_parts, row_parts, offsets, first_row, lo, hi, shift in parts:
        owner = Scan(data, plan, lo, hi)
        owner.load_checkpoints(offsets, first_row)
        owners.append(owner)
        starts.append(first_row)
        shifts.append(shift)
    moves = [{} for _ in parts]
    cdef KeyIndex index = KeyIndex()  # one for every part, emptied in between
    for k in range(len(parts[0][0]) if parts else 0):
        chunks = [(part[0][k], part[1][k]) for part in parts]
        index.empty(sum(len(row_bytes) for _, row_bytes in chunks) // sizeof(int64_t))
        find_again(index, chunks, shifts, owners, starts, earlier, later, moves)
    return moves


cdef int find_again(KeyIndex index, list chunks, list shifts, list owners, list starts,
                    Scan earlier, Scan later, list moves) except -1:
    """Look up one part of the keys of every chunk, in file order; note the repeats
    (a chunk's rows are moved by its shift: it numbered them from a guess)."""
    cdef const unsigned char[::1] tag_view, row_view
    cdef const uint32_t* tags
    cdef const int64_t* rows
    cdef Py_ssize_t i, n, e, p, q, la, lb
    cdef uint64_t tag, s
    cdef int64_t row, first, shift
    for p in range(len(chunks)):
        tag_view, row_view = chunks[p]  # bytes, or views of the files the chunks left
        n = tag_view.shape[0] // 4
        if n == 0:
            continue
        shift = shifts[p]
        tags = <const uint32_t*>&tag_view[0]
        rows = <const int64_t*>&row_view[0]
        moved = moves[p]
        for i in range(n):
            if i + PK_BATCH < n:  # the slot of a key a few ahead: in cache when its turn comes
                prefetch(&index.slots[tags[i + PK_BATCH] & index.mask])
            tag = tags[i]
            row = rows[i] + shift
            s = tag & index.mask
            while True:
                e = index.next_match(tag, &s)
                if e < 0:
                    index.put(s, tag, row)
                    break
                first = index.rows[e]
                q = p
                while starts[q] > first:
                    q -= 1
                la = earlier.key_of(owners[q], first)
                lb = later.key_of(owners[p], row)
                if la == lb and la >= 0 and memcmp(earlier.key, later.key, la) == 0:
                    moved[row] = first
                    break
    return 0


def shifted_rows(bytes arena, bytes entries, int64_t shift) -> tuple:
    """A KeySet dump (KeySet.dumps) with every entry's row moved by shift."""
    cdef bytearray moved = bytearray(entries)
    cdef Entry* e = <Entry*><char*>moved
    cdef Py_ssize_t i
    for i in range(len(moved) // sizeof(Entry)):
        e[i].row += shift
    return arena, bytes(moved)


def row_starts(data, plan, Py_ssize_t start, targets) -> list:
    """(offset, row number) of the first record starting at or after each target offset.

    Runs the CSV state machine from `start` (the first record, row 1), so a line break
    inside a quoted cell is never taken for a row boundary. Stops at a format error.
    """
    cdef Scan scan = Scan(data, plan, start, len(data))
    cdef int64_t number = 0
    cdef Py_ssize_t target
    found = []
    wanted = sorted(targets)
    cdef Py_ssize_t k = 0
    while k < len(wanted):
        target = wanted[k]
        while scan.pos < target:
            if scan.record() != END_ROW:
                return found
            number += 1
        if scan.pos >= scan.stop:
            break
        found.append((scan.pos, number + 1))
        k += 1
    return found


def cells_at(data, plan, Py_ssize_t start, Py_ssize_t stop, first_row, rows) -> dict:
    """{row: cells} for some rows of data[start:stop], whose first record is row first_row."""
    cdef Scan scan = Scan(data, plan, start, stop)
    wanted = set(rows)
    found = {}
    number = first_row
    while wanted and scan.record() == END_ROW:
        if number in wanted:
            found[number] = scan.texts()
            wanted.discard(number)
        number += 1
    return found
