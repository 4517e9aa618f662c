"""Whole vectors at memory speed, between numpy and R.

- Numbers: written (and converted to R's element type) straight into a fresh
  R vector whose pages are first marked for transparent huge pages (as numpy
  does for its own large arrays): one pass, no intermediate array, and the
  copy is not dominated by page faults.
- Numbers back: a read-only numpy view of R's memory, which keeps the R object
  alive (and protected from R's garbage collector) as long as the view lives.
  R copies before modifying a vector that we have handed out (values reach
  Python through R lists, which mark them shared), so the view never changes.
- Strings: one joined buffer and one ``strsplit`` in R, instead of one R call
  per element; back, R's distinct values are pasted into one buffer and the
  column is rebuilt from codes.
- Numbers again, into the same name: when the vector bound there is one R
  itself would modify in place, it is overwritten instead of replaced (see
  :func:`overwritable_view`).
"""

from __future__ import annotations

import ctypes
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

import numpy as np
import pandas as pd

from .. import _rapi
from ..errors import ConversionError, RError
from ..session import RCode, as_dict, get_session

_R = RCode("strings.R")

_HUGE_PAGE = 2 * 1024 * 1024
_MADV_HUGEPAGE = 14
_SEPARATOR = "\x1f"  # ASCII unit separator; data containing it takes the slow path
MIN_BULK_STRINGS = 512  # below this, one call per element is cheaper than the helpers


def _libc_function(name: str, argtypes: list):
    """A function of glibc (madvise, malloc_trim), or None elsewhere."""
    if os.uname().sysname != "Linux":
        return None
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = argtypes
    return fn


_madvise_fn = _libc_function("madvise", [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int])
_malloc_trim_fn = _libc_function("malloc_trim", [ctypes.c_size_t])


@functools.cache
def workers() -> ThreadPoolExecutor:
    """Threads for work that releases the GIL (Arrow's hashing) beside R's,
    which stays on the caller's thread."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="rmagic_ext-strings")


def release_freed_memory() -> None:
    """Give back to the system the memory freed by the calling thread's work.
    A worker thread allocates from its own malloc arena, which keeps what it
    frees; R, on the main thread, could never reuse it."""
    if _malloc_trim_fn is not None:
        _malloc_trim_fn(0)


def _prefer_huge_pages(address: int, nbytes: int) -> None:
    if _madvise_fn is None or nbytes < 2 * _HUGE_PAGE:
        return
    start = (address + _HUGE_PAGE - 1) & ~(_HUGE_PAGE - 1)
    end = (address + nbytes) & ~(_HUGE_PAGE - 1)
    if end > start:
        _madvise_fn(start, end - start, _MADV_HUGEPAGE)


def new_vector(vector_class, n: int):
    """A new R vector of ``vector_class`` (rpy2's FloatSexpVector, ...) and a
    writable numpy view of its memory, to be filled in place: conversions
    write straight into R's memory, with no intermediate array."""
    cdata = _allocate(vector_class._R_TYPE, n)
    try:
        sexp = _rapi.wrap(cdata)
    finally:
        unprotect(1)
    return sexp, _fresh_view(cdata, vector_class._R_TYPE, n, owner=sexp)


def _fresh_view(cdata, sexptype: int, n: int, owner):
    """A writable view of a new vector's memory, its pages marked for huge
    pages before they are first touched."""
    view = _view(cdata, sexptype, n, owner, writable=True)
    if n:
        _prefer_huge_pages(view.__array_interface__["data"][0], view.nbytes)
    return view


_ALLOCATED_BY_R_CODE = 1 << 21  # elements; below this, R failing to allocate means the machine is out of memory already


def _allocate(sexptype: int, n: int):
    """A new R vector (a bare SEXP, protected: the caller unprotects it).

    Large ones are made by R code under tryCatch: R's "cannot allocate vector
    of size ..." error, raised in C, would jump over Python's frames and end
    the process; from R code it becomes a ConversionError."""
    if n < _ALLOCATED_BY_R_CODE:
        return _rapi.allocate(sexptype, n)
    try:
        box = _R("alloc_vector", _rapi.TYPE_NAMES[sexptype], float(n))
    except RError as exc:
        raise ConversionError(f"R cannot hold {n:,} values: {exc.message}") from None
    return _rapi.take_element(box, 0)


def filled_vector(vector_class, values: np.ndarray | memoryview, na: np.ndarray | None = None, na_value=None):
    """A new R vector holding ``values`` converted to R's element type in one
    pass, with ``na_value`` where ``na`` is True."""
    sexp, view = new_vector(vector_class, len(values))
    np.copyto(view, values, casting="unsafe")
    if na is not None and na.any():
        view[na] = na_value
    return sexp


class _RMemory:
    """Exposes an R vector's memory to numpy and keeps the R object alive."""

    def __init__(self, sexp, dtype, length: int, address: int, readonly: bool):
        self.sexp = sexp  # holds rpy2's protection of the R object
        self.__array_interface__ = {
            "shape": (length,),
            "typestr": np.dtype(dtype).str,
            "data": (address, readonly),
            "version": 3,
        }


_DTYPES = {_rapi.REALSXP: np.float64, _rapi.INTSXP: np.int32, _rapi.LGLSXP: np.int32, _rapi.RAWSXP: np.uint8}


def r_array(sexp, writable: bool = False) -> np.ndarray:
    """A numpy view (no copy) of a numeric R vector's memory, read-only unless
    ``writable``, that keeps the R object alive. (rpy2's own ``memoryview()``
    is not used: each call drops a reference to None, which ends in a crash.)"""
    return _view(_rapi.cdata(sexp), int(sexp.typeof), len(sexp), sexp, writable)


def _view(cdata, sexptype: int, length: int, owner, writable: bool) -> np.ndarray:
    """A numpy view of the memory of the numeric R vector ``cdata``; ``owner``
    (an rpy2 object, or None where the caller keeps R's object alive) lives
    as long as the view."""
    dtype = _DTYPES[sexptype]
    if length == 0:
        return np.empty(0, dtype=dtype)
    memory = _RMemory(owner, dtype, length, _rapi.data_address(cdata, sexptype), readonly=not writable)
    return np.asarray(memory)


def raise_surrogate(text: str, position: int) -> NoReturn:
    raise ConversionError(f"a string holds {text[position]!r}, a lone surrogate, which is not text R can hold")


def raise_nul() -> NoReturn:
    raise ConversionError(
        "R strings cannot contain NUL characters ('\\x00'); send such data as bytes (R raw vectors) instead"
    )


def strings_to_r(values: np.ndarray, na: np.ndarray | None, ri):
    """A character vector from an object array of str (True in ``na`` is NA),
    or None when the data holds the separator and must go element by element.

    A column with many repeats goes as its distinct values and a code per
    element (R makes one string per distinct value, then copies pointers);
    one with few goes whole (hashing it would cost more than it saves).
    The strings travel as one UTF-8 buffer that R splits once (several when
    they pass R's limit on the length of one string), assembled piece by
    piece, so besides it only one piece's text is alive."""
    if has_repeats(values[sample_positions(len(values))]):
        codes, distinct = pd.factorize(values)
        if na is not None:
            codes[na] = -1
        r_codes = codes_vector(codes, ri)
        del codes  # freed before R makes the strings
        return _joined_to_r(distinct, None, ri, r_codes)
    return _joined_to_r(values, na, ri, None)


def codes_vector(codes: np.ndarray, ri):
    """R's 1-based integer codes for 0-based ones (negative: NA), written
    straight into a new R vector."""
    r_codes, view = new_vector(ri.IntSexpVector, len(codes))
    np.add(codes, 1, out=view, casting="unsafe")
    view[codes < 0] = _rapi.NA_INTEGER
    return r_codes


def has_repeats(sample) -> bool:
    """Whether a sample of a column (an object array of str or NA, or an
    Arrow array) holds enough repeats that sending distinct values pays:
    with k distinct values in the column, a sample of s has about s²/2k
    repeats, so 2 % of it repeated means k is at most about 25 times s."""
    if not isinstance(sample, np.ndarray):
        distinct = _count_distinct(sample)
    elif sample.dtype == object:
        distinct = len(set(sample.tolist()))
    else:  # R's string pointers
        distinct = len(np.unique(sample))
    return distinct < 0.98 * len(sample)


def sample_positions(n: int) -> np.ndarray:
    """Where the sample has_repeats looks (_SAMPLE positions, sorted): drawn at
    random, the same ones each time for a given n. (A stride would line up
    with data that cycles, as 50k values repeated in order do, and see no
    repeat at all.)"""
    if n <= _SAMPLE:
        return np.arange(n)
    return np.sort(np.random.default_rng(n).choice(n, _SAMPLE, replace=False))


def _count_distinct(array) -> int:
    import pyarrow.compute as pc

    return pc.count_distinct(array, mode="all").as_py()


def _joined_to_r(values: np.ndarray, na: np.ndarray | None, ri, codes):
    joined, counts = [], []  # R strings, and how many values each one holds
    buffer, count = bytearray(), 0
    for start in range(0, len(values), _PIECE):
        piece = _join(_blank(values[start : start + _PIECE], None if na is None else na[start : start + _PIECE]))
        if piece is None or len(piece) > MAX_R_STRING:
            return None
        if count and len(buffer) + len(_SEPARATOR_BYTES) + len(piece) > MAX_R_STRING:
            joined.append(_r_string(buffer))
            counts.append(count)
            buffer, count = bytearray(), 0
        if count:
            buffer += _SEPARATOR_BYTES
        buffer += piece
        count += min(_PIECE, len(values) - start)
        del piece
    joined.append(_r_string(buffer))
    counts.append(count)
    del buffer
    return _split_in_r(joined, counts, na, ri, codes)


def _split_in_r(joined: list, counts: list[int], na: np.ndarray | None, ri, codes):
    """The character vector R makes of separator-joined buffers (``counts[i]``
    values in ``joined[i]``), NA where ``na`` says; with ``codes`` (an R
    vector from :func:`codes_vector`), those are the distinct values and
    element i is the ``codes[i]``-th."""
    na_positions = filled_vector(ri.IntSexpVector, np.flatnonzero(na) + 1) if na is not None and na.any() else ri.NULL
    return _R(
        "split_strings",
        ri.ListSexpVector(joined),
        ri.IntSexpVector(counts),
        na_positions,
        ri.NULL if codes is None else codes,
    )


def _r_string(buffer):
    """One R string of separator-joined values (a value holding NUL: refused)."""
    try:
        return _rapi.utf8_string(buffer)
    except _rapi.EmbeddedNul:
        raise_nul()


def utf8_column_to_r(data: np.ndarray, offsets: np.ndarray, na: np.ndarray | None, ri, codes=None):
    """A character vector from Arrow's layout of a string column: the UTF-8
    bytes of all values (``data``, uint8) and n + 1 ``offsets`` into them;
    None when the data holds the separator (then the caller goes element by
    element). With ``codes``, those are the distinct values (see
    :func:`_split_in_r`). The buffer R splits is made by inserting
    separators between the values, one vectorised pass: no Python string
    per value."""
    n = len(offsets) - 1
    if n <= 0:  # with codes, every element is NA
        return ri.StrSexpVector([]) if codes is None else _split_in_r([_rapi.utf8_string(b"")], [0], None, ri, codes)
    first, last = int(offsets[0]), int(offsets[-1])
    data = data[first:last]  # an array sliced in Arrow keeps its parent's buffers
    offsets = offsets.astype(np.int64) - first
    if np.any(data == _SEPARATOR_BYTES[0]):
        return None
    if np.any(data == 0):
        raise_nul()
    with_separators = offsets + np.arange(n + 1)  # where each value starts once separators are in
    joined, counts, start = [], [], 0
    while start < n:
        stop = int(np.searchsorted(with_separators, with_separators[start] + MAX_R_STRING + 1, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        if offsets[stop] - offsets[start] + (stop - start - 1) > MAX_R_STRING:
            return None  # one value longer than R's limit on a string
        piece = np.insert(
            data[offsets[start] : offsets[stop]], offsets[start + 1 : stop] - offsets[start], _SEPARATOR_BYTES[0]
        )
        joined.append(_r_string(piece))
        counts.append(stop - start)
        start = stop
    return _split_in_r(joined, counts, na, ri, codes)


_PIECE = 65_536
_SAMPLE = 4_096
MAX_R_STRING = _rapi.MAX_R_STRING
_SEPARATOR_BYTES = _SEPARATOR.encode()


def string_na(values: np.ndarray) -> tuple[bool, np.ndarray | None]:
    """Whether an object array holds only str apart from missing values
    (None, NaN, pd.NA, NaT), and where those are (None: nowhere). pandas
    looks in C; the all-str case, the common one, needs no mask at all."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return True, None
    na = pd.isna(values)
    present = values[~na]
    all_str = not len(present) or pd.api.types.infer_dtype(present, skipna=False) == "string"
    return all_str, (na if na.any() else None)


def none_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The values as Python objects, None where ``mask`` holds (what R's NA
    becomes among objects)."""
    objects = values.astype(object)
    objects[mask] = None
    return objects


def _blank(values: np.ndarray, na: np.ndarray | None) -> np.ndarray:
    """The strings with "" at NA positions (R marks those NA after splitting)."""
    return np.where(na, "", values) if na is not None and na.any() else values


def _join(items: np.ndarray) -> bytes | None:
    """One UTF-8 buffer of the strings, or None when one of them holds the
    separator."""
    joined = _SEPARATOR.join(items)
    if joined.count(_SEPARATOR) != len(items) - 1:
        return None
    if "\x00" in joined:
        raise_nul()
    try:
        return joined.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise_surrogate(joined, exc.start)


# -- Strings out of R -----------------------------------------------------------


class DistinctStrings:
    """A character vector as read from R: its distinct strings, as UTF-8
    bytes each followed by NUL (``pieces``: views of R raw vectors, which
    they keep alive), which of them is NA (``na``), and each element's
    index among them (``codes``; None when element i is distinct string i).

    Python strings are made once per distinct value (:meth:`objects`), or
    never: Arrow arrays are built from the bytes (convert/arrow.py)."""

    def __init__(self, pieces: list[np.ndarray], na: np.ndarray, codes: np.ndarray | None):
        self.pieces, self.na, self.codes = pieces, na, codes

    def decoded(self) -> np.ndarray:
        """The distinct strings as an object array of str, None for NA."""
        distinct = np.empty(len(self.na), dtype=object)
        at = 0
        for piece in self.pieces:
            if len(piece):
                texts = str(piece[:-1].data, "utf-8").split("\x00")
                distinct[at : at + len(texts)] = texts
                at += len(texts)
        distinct[self.na] = None
        return distinct

    def objects(self) -> tuple[np.ndarray, np.ndarray]:
        """The elements as an object array of str (None for NA) and the NA mask."""
        distinct = self.decoded()
        if self.codes is None:
            return distinct, self.na
        na = self.na[self.codes] if self.na.any() else np.zeros(len(self.codes), dtype=bool)
        return distinct[self.codes], na


def distinct_strings(sexp) -> DistinctStrings | None:
    """The distinct strings of a character vector, or None when R could not
    hand them over as UTF-8 text (bytes-marked strings, text that is not
    valid UTF-8, a locale that is not UTF-8): the caller then goes element by
    element, which names the problem.

    R's string cache makes equal strings one CHARSXP, so the pointers that
    STRING_PTR_RO shows (no copy) tell the distinct values; they are hashed
    in bulk, and only the distinct strings are read. When a sample shows no
    repeats, every string is read and nothing is hashed."""
    if not _utf8_locale():
        return None
    n = len(sexp)
    at = _rapi.string_pointers_address(_rapi.cdata(sexp))
    if at is None:  # ALTREP, or no STRING_PTR_RO: R finds the distinct values
        found = as_dict(_R("distinct_strings", sexp))
        codes = r_array(found["codes"]).astype(np.intp) - 1
        na = np.zeros(len(found["distinct"]), dtype=bool)
        na[r_array(found["na"]) - 1] = True
        return _read_distinct(found["distinct"], None, na, codes)
    pointers = np.asarray(_RMemory(sexp, np.uint64, n, at, readonly=True)) if n else np.empty(0, np.uint64)
    is_na = _rapi.na_string_address()
    if not has_repeats(pointers[sample_positions(n)]):
        return _read_distinct(sexp, None, pointers == is_na, None)
    codes, distinct, first = _factorize(pointers)
    return _read_distinct(sexp, first, distinct == is_na, codes)


def _factorize(pointers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes, distinct values and where each first appears, of uint64s:
    Arrow's hashing where pyarrow is installed (3x pandas' here), else
    pandas'. A long column is hashed in halves, one on a worker thread
    (Arrow and numpy's indexing release the GIL), and the halves'
    dictionaries are put end to end, not merged: a value in both halves is
    then two "distinct" values with the same string, which costs R one more
    string to write, less than merging costs."""
    pa = _pyarrow()
    if pa is None or len(pointers) >= 2**31:
        codes, distinct = pd.factorize(pointers)
        return codes, distinct, _first_positions(codes, len(distinct))
    if len(pointers) < _HALVES_FROM or (os.cpu_count() or 1) < 2:
        return _hashed(pointers)
    middle = len(pointers) // 2
    second = workers().submit(_hashed, pointers[middle:])
    codes_a, distinct_a, first_a = _hashed(pointers[:middle])
    codes_b, distinct_b, first_b = second.result()
    codes = np.empty(len(pointers), dtype=np.int32)
    codes[:middle] = codes_a
    np.add(codes_b, len(distinct_a), out=codes[middle:])
    return codes, np.concatenate([distinct_a, distinct_b]), np.concatenate([first_a, first_b + middle])


_HALVES_FROM = 1 << 18  # shorter columns: one thread is quicker than two


def _hashed(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    encoded = _pyarrow().array(values).dictionary_encode()
    codes = np.frombuffer(encoded.indices.buffers()[1], dtype=np.int32)[: len(values)]
    distinct = encoded.dictionary.to_numpy()
    return codes, distinct, _first_positions(codes, len(distinct))


def _first_positions(codes: np.ndarray, k: int) -> np.ndarray:
    """Where each code first appears: written from the last position to the
    first, the earliest write of each code is the one that stays (numpy
    assigns repeated indices in order). One pass, whatever the codes' order."""
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int32 if len(codes) < 2**31 else np.int64)
    return first


def _read_distinct(sexp, first: np.ndarray | None, na: np.ndarray, codes: np.ndarray | None):
    """R writes ``sexp[first]`` (all of ``sexp`` when None) as UTF-8 bytes;
    text that is all ASCII needs no check of its encoding."""
    r = get_session().ri
    r_first = r.NULL if first is None else filled_vector(r.IntSexpVector, first + 1)
    pieces = [
        _view(_rapi.cdata(raw), _rapi.RAWSXP, len(raw), raw, writable=False)
        for raw in _R("utf8_bytes", sexp, r_first, float(_STRINGS_PER_PIECE))
    ]
    if not all(_ascii(piece) for piece in pieces) and not _R("utf8_text", sexp, r_first)[0]:
        return None
    return DistinctStrings(pieces, na, codes)


_STRINGS_PER_PIECE = 2**22  # strings in one raw vector (at most 2^31 - 1 bytes): 512 bytes each


def _ascii(piece: np.ndarray) -> bool:
    return not len(piece) or int(piece.max()) < 0x80


@functools.cache
def _utf8_locale() -> bool:
    return bool(_R("utf8_locale")[0])


@functools.cache
def _pyarrow():
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


def strings_from_r(sexp) -> tuple[np.ndarray, np.ndarray] | None:
    """An object array of the strings of a character vector (None for NA)
    and the NA mask, or None when R could not hand them over as text (see
    :func:`distinct_strings`): the caller then goes element by element."""
    if len(sexp) < MIN_BULK_STRINGS:
        return None
    found = distinct_strings(sexp)
    return None if found is None else found.objects()


def marked_as_bytes(sexp) -> bool:
    """Whether some string of a character vector has R's "bytes" encoding,
    which R refuses to translate (an R error raised from C, if read)."""
    return bool(_R("marked_as_bytes", sexp)[0])


# -- Overwriting in place -------------------------------------------------------


def overwritable_view(value, r_type: str, length: int) -> np.ndarray | None:
    """A writable view of the R vector ``value`` (a bare cffi SEXP bound to a
    name, or None) if R itself would modify that vector in place, else None.

    That is R's own rule for ``x[] <- new``: the vector is referenced by its
    binding only (reference count 1, tracked), and no Python object holds it
    (rpy2 wrappers and our zero-copy views: R counts the reference rpy2's
    R_PreserveObject adds, and rpy2's own table is checked in case a version
    of it preserves objects some other way). It must
    also be exactly what the new value would be: a plain vector of ``r_type``
    and ``length`` with no attributes and no ALTREP class.

    The caller holds R, was not called from R code that is still running
    (whose stack may hold the vector uncounted), and writes before R runs
    anything else."""
    if value is None:
        return None
    sexptype = _rapi.SEXPTYPES[r_type]
    if not _rapi.overwritable(value, sexptype, length):
        return None
    return _view(value, sexptype, length, None, writable=True)


def unwrapped_vector(r_type: str, length: int):
    """A new, protected R vector (a bare cffi SEXP, for ``Rf_unprotect`` by the
    caller) and a writable view of its memory. No rpy2 wrapper is made: that
    would add a reference R never takes back, and the vector could then never
    be overwritten in place."""
    sexptype = _rapi.SEXPTYPES[r_type]
    cdata = _allocate(sexptype, length)
    return cdata, _fresh_view(cdata, sexptype, length, owner=None)


def unprotect(count: int) -> None:
    """Release the newest ``count`` of R's protections (of :func:`_allocate`)."""
    _rapi.unprotect(count)
