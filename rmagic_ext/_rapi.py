"""Every raw entry into libR, and every difference between rpy2 releases.

No other module of rmagic_ext declares or calls a libR symbol, or reaches
into rpy2's private modules: they call the functions here. The rest of the
package uses rpy2's public ``rpy2.rinterface`` objects (Sexp, environments,
``rternalize``) and asks this module for anything lower.

R hides more of its non-API entry points with each release (R >= 4.5 lists
its API in ``tools:::funAPI()``), so each symbol below is used in one of two
ways:

- **API** entry points (status "api" below) are called through rpy2's own
  cffi declarations (``openrlib.rlib``), in rpy2 3.5 and 3.6 alike.
- **Non-API and experimental** ones are looked up at run time with ctypes on
  the libR already loaded. Each has a fallback: when R does not export it, a
  slower correct path is taken, never a failure. :func:`features` reports
  which are in use; ``python -m rmagic_ext doctor`` prints it.

Status is ``tools:::funAPI()``'s on R 4.5.0 and 4.6.1 (the same on both):
"api", "eapi" (experimental API) or "not API" (not listed). R 4.2 has no
such list; its libR exports every symbol below except MAYBE_SHARED,
NO_REFERENCES and ANY_ATTRIB. ``nm -D libR.so`` shows what each R exports:
R 4.5 and 4.6 no longer export TRACKREFS.

=====================  ==========================================  =======  ==================================
symbol                 what for                                    status   when R does not export it
=====================  ==========================================  =======  ==================================
Rf_allocVector         new vectors that numpy fills in place       api      (required)
Rf_protect             keep new vectors from R's GC meanwhile      api      (required)
Rf_unprotect           ... and let go                              api      (required)
VECTOR_ELT             take a large vector out of the list R       api      (required)
SET_VECTOR_ELT         code made it in, dropping the reference     api      (required)
R_NilValue             "no attributes", an emptied list slot       api [1]  (required)
REAL, INTEGER,         numpy views of numeric vectors (instead     api      (required)
LOGICAL, RAW           of DATAPTR, which is not API)
STRING_PTR_RO          a character vector's CHARSXP pointers,      api      distinct strings found by R's
                       read in bulk to find its distinct strings            unique() and match() (slower)
R_NaString             ... and which of them is NA                 api [1]  (required)
Rf_mkCharLenCE         one R string from a UTF-8 buffer            api      (required)
Rf_ScalarString        ... as a character vector (bulk strings)    api      (required)
Rf_install             the symbol of a name pushed from Python     api      (required)
R_tryEval, Rf_lang2,   call a status-reporting R helper without    api      (required)
Rf_lang3, Rf_lang4,    rpy2's call objects (a trivial cell makes
Rf_lang5, Rf_lang6     several such calls)
Rf_getAttrib           small results read in C (names, a flag)     api      (required)
Rf_defineVar           bind a pushed value (rpy2's copies it)      api      (required)
Rf_xlength             length check before overwriting in place    api      (required)
TYPEOF                 type check before overwriting in place      api      (required)
MAYBE_SHARED,          reference count exactly 1: R's own rule     api [2]  REFCNT and TRACKREFS
NO_REFERENCES          for modifying a vector in place
REFCNT, TRACKREFS      the same, where the two above are macros    not API  no in-place re-push
ANY_ATTRIB             a vector without attributes                 api [2]  ATTRIB
ATTRIB                 the same, before R 4.5                      not API  no in-place re-push
ALTREP                 ALTREP vectors are never overwritten, nor   eapi     no in-place re-push; strings
                       read through STRING_PTR_RO (it may                   found by R (see STRING_PTR_RO)
                       allocate, and raise from C)
Rf_findVarInFrame3     the vector bound to a name, without         not API  no in-place re-push
                       forcing a promise [3]
R_existsVarInFrame     is there a binding (before the checks       eapi     every push goes through R's assign
                       below, which raise when there is none)
R_BindingIsActive,     active and locked bindings go through       eapi     every push goes through R's assign
R_BindingIsLocked      R's assign (R's errors, R's semantics)
R_EnvironmentIsLocked  may a new binding be added                  eapi     every push goes through R's assign
R_Interactive          interactive() only where someone can        api [1]  (required)
                       answer R's questions
R_interrupts_pending   a SIGINT handed to R from its own check     not API  Ctrl-C stops Python code only
                       (process-events hook), never elsewhere [4]
R_CStackLimit,         R's C stack check, pointed at the calling   not API  no stack check: runaway recursion
R_CStackStart          thread's own stack (rpy2 turns it off)               in C code may crash
=====================  ==========================================  =======  ==================================

[1] A variable; funAPI() lists functions only. Writing R Extensions
    documents it as API.
[2] Functions from R 4.5 on; macros (not exported) before.
[3] R_getVarEx, the API lookup of R 4.5, forces promises: that runs R code
    whose error would jump over Python's frames.
[4] R also acts on the flag at the end of any garbage collection: set while
    Python converts, the next direct Rf_allocVector would jump out of C.

Errors raised in C. A libR call that fails raises an R error, which
longjmps to the innermost R context. A call made from here runs in none of
R's contexts but the one R set up when it started, inside setup_Rmainloop,
which has long returned: the jump lands there, and R ends the process
("Fatal error: unable to initialize the JIT"), taking the kernel with it.
So every libR call here is either one that cannot fail for its arguments,
which are checked first (a string with NUL or over 2^31-1 bytes, a name
longer than R's limit, a binding R would refuse), or R code run under
R_tryEval, which catches R's errors (large allocations, lookups that may run
code). rpy2's own calls have the same rule: values are checked before
rpy2's constructors see them.

rpy2 3.5 and 3.6 differ in start-up (``initr_checkenv`` is gone in 3.6,
where ``initr`` checks the environment itself and logs), in cffi mode (ABI
vs API: a declaration that libR lacks fails at first use vs at import), and
in what their cdef declares (3.6 lacks ``Rf_findVarInFrame3``); everything
else used here is shared. Both free an R object (R_ReleaseObject) whenever
Python frees its wrapper, on any thread and without their lock: here that
waits for the lock (:func:`release_pending`).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import logging
import os
import platform
import threading
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator

# -- SEXPTYPE codes and NA values (R's Rinternals.h; fixed since R 3.0) ---------

#: SEXPTYPE name (as rpy2's RTYPES spells it) -> (code, R's typeof() name).
#: R 4.4 renamed S4SXP to OBJSXP (typeof "object", ggplot2 4's S7 plots).
#: The class every rpy2 object of R derives from (robjects' and rinterface's,
#: rpy2 3.5 and 3.6 alike), by dotted name: converters register on it
#: without importing rpy2.
RPY2_SEXP_CLASS = "rpy2.rinterface_lib.sexp.Sexp"

SEXP_TYPES = {
    "NILSXP": (0, "NULL"),
    "SYMSXP": (1, "symbol"),
    "LISTSXP": (2, "pairlist"),
    "CLOSXP": (3, "closure"),
    "ENVSXP": (4, "environment"),
    "PROMSXP": (5, "promise"),
    "LANGSXP": (6, "language"),
    "SPECIALSXP": (7, "special"),
    "BUILTINSXP": (8, "builtin"),
    "CHARSXP": (9, "char"),
    "LGLSXP": (10, "logical"),
    "INTSXP": (13, "integer"),
    "REALSXP": (14, "double"),
    "CPLXSXP": (15, "complex"),
    "STRSXP": (16, "character"),
    "DOTSXP": (17, "..."),
    "ANYSXP": (18, "any"),
    "VECSXP": (19, "list"),
    "EXPRSXP": (20, "expression"),
    "BCODESXP": (21, "bytecode"),
    "EXTPTRSXP": (22, "externalptr"),
    "WEAKREFSXP": (23, "weakref"),
    "RAWSXP": (24, "raw"),
    "S4SXP": (25, "S4"),
    "OBJSXP": (25, "object"),
}
NILSXP, LGLSXP, INTSXP, REALSXP, CPLXSXP, STRSXP, VECSXP, RAWSXP = (
    SEXP_TYPES[n][0] for n in ("NILSXP", "LGLSXP", "INTSXP", "REALSXP", "CPLXSXP", "STRSXP", "VECSXP", "RAWSXP")
)
#: typeof() name of each vector type's code, and back.
TYPE_NAMES = {
    code: name
    for code, name in (SEXP_TYPES[n] for n in ("LGLSXP", "INTSXP", "REALSXP", "CPLXSXP", "STRSXP", "VECSXP", "RAWSXP"))
}
SEXPTYPES = {name: code for code, name in TYPE_NAMES.items()}
NA_INTEGER = -(2**31)  # NA_integer_ and NA_logical
NA_REAL_PAYLOAD = 1954  # NA_real_ is the NaN whose low 32 bits are 1954

#: Bytes in one R string; past it R raises from C, which would end the process.
MAX_R_STRING = 2**31 - 1
#: R's limit on the length of a symbol's name (Rf_install raises beyond it).
MAX_SYMBOL_BYTES = 10_000


# -- rpy2 ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rpy2:
    """The parts of rpy2 rmagic_ext uses, imported once."""

    ri: Any  # rpy2.rinterface
    callbacks: Any  # rpy2.rinterface_lib.callbacks
    conversion: Any  # rpy2.rinterface_lib.conversion
    capi: Any  # rpy2.rinterface_lib._rinterface_capi
    openrlib: Any  # rpy2.rinterface_lib.openrlib
    embedded: Any  # rpy2.rinterface_lib.embedded
    version: str
    RRuntimeError: type  # what rpy2 raises when R code it ran failed outside our handlers


@functools.cache
def rpy2_modules() -> Rpy2:
    """Import rpy2's low-level interface (this loads libR, not R's session).

    Raises what rpy2 raises (ImportError, OSError, cffi's missing-symbol
    errors) when R and rpy2 do not fit: the session turns that into advice."""
    import rpy2.rinterface as ri
    from rpy2.rinterface_lib import _rinterface_capi, callbacks, conversion, embedded, openrlib

    return Rpy2(
        ri, callbacks, conversion, _rinterface_capi, openrlib, embedded, _rpy2_version(), embedded.RRuntimeError
    )


def _rpy2_version() -> str:
    """rpy2's release (3.6 splits it into rpy2-rinterface and rpy2-robjects)."""
    from importlib import metadata

    for distribution in ("rpy2", "rpy2-rinterface"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "?"


def lock() -> threading.RLock:
    """rpy2's re-entrant R lock: rpy2 takes it in its own callbacks, so
    sharing it means one thread at a time in R, and R calling back into
    Python (same thread) re-enters freely."""
    return rpy2_modules().openrlib.rlock


def rlib():
    """rpy2's cffi handle on libR: the API entry points."""
    return rpy2_modules().openrlib.rlib


def ffi():
    return rpy2_modules().openrlib.ffi


def start_r() -> None:
    """Start the embedded R once (a no-op when it is up already).

    rpy2 3.5 has ``initr_checkenv`` (which warns about R start-up variables
    already set, as they are in a kernel started from a process that ran
    R: noise); rpy2 3.6 has only ``initr``, which checks and logs. Both are
    kept quiet; real failures still raise."""
    ri = rpy2_modules().ri
    start = getattr(ri, "initr_checkenv", None) or ri.initr
    library_path = os.environ.get("LD_LIBRARY_PATH")
    with warnings.catch_warnings(), _quiet_logger("rpy2"):
        warnings.filterwarnings("ignore", message="Environment variable", category=UserWarning)
        # Started from a thread, rpy2 warns that Ctrl-C cannot interrupt R:
        # not so here, the session interrupts R through R's own event check.
        warnings.filterwarnings("ignore", message="R is not initialized by the main thread", category=UserWarning)
        start()
    _restore_library_path(library_path)
    _release_under_the_lock()


_pending_releases: collections.deque = collections.deque()


def _release_under_the_lock() -> None:
    """rpy2 lets go of an R object (R_ReleaseObject) whenever Python frees
    its wrapper: on any thread, at any time, without R's lock; while another
    thread runs R, that corrupts R's memory. Releases now happen under the
    lock, or wait for the next entry into R (:func:`release_pending`)."""
    capi = rpy2_modules().capi
    if getattr(capi._release, "rmagic_ext_original", None) is not None:
        return
    original, rlock, pending = capi._release, lock(), _pending_releases

    # Everything the two functions use is bound here, not looked up in this
    # module: rpy2 still releases objects while Python tears modules down.
    def drain() -> None:
        while pending:
            original(pending.popleft())

    def release(pointer) -> None:
        if not rlock.acquire(blocking=False):
            pending.append(pointer)
            return
        try:
            drain()
            original(pointer)
        finally:
            rlock.release()

    release.rmagic_ext_original = original
    release.drain = drain
    capi._release = release


def release_pending() -> None:
    """Release the R objects Python let go of while another thread held R
    (call with the R lock held)."""
    if _pending_releases:
        rpy2_modules().capi._release.drain()


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _restore_library_path(before: str | None) -> None:
    """rpy2 puts R's library folders (/usr/lib/x86_64-linux-gnu, ...) in front
    of LD_LIBRARY_PATH once R is loaded; every later subprocess (`!python`,
    subprocess.run) would then load the system's libpython and others instead
    of its own. R needs nothing from the variable after start-up."""
    if before is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = before


def route_console(stdout: Callable[[str], None], stderr: Callable[[str], None], decode: Callable[[bytes], str]) -> None:
    """Send R's console output to ``stdout``/``stderr`` and decode its bytes
    with ``decode`` (rpy2's own decoding is strict and drops text that is not
    UTF-8, such as a multibyte character split between two writes)."""
    rp = rpy2_modules()
    rp.callbacks.consolewrite_print = stdout
    rp.callbacks.consolewrite_warnerror = stderr
    rp.callbacks.showmessage = stderr
    rp.conversion._cchar_to_str_with_maxlen = lambda buf, maxlen, encoding: decode(ffi().string(buf, maxlen))


def route_console_read(read: Callable[[str], str]) -> None:
    """Answer R's console reads (readline, menu, the debugger's prompt) with
    ``read(prompt)``; its "" is the end of input to R."""
    rpy2_modules().callbacks.consoleread = read


def set_interactive(interactive: bool) -> None:
    """R's ``interactive()``: whether R may ask questions (R_Interactive, a
    variable of R's embedding API)."""
    rlib().R_Interactive = bool(interactive)


def r_ready() -> bool:
    """Whether the embedded R runs (false once rpy2 has ended it at exit)."""
    return bool(rpy2_modules().embedded.isready())


def on_process_events(hook: Callable[[], None]) -> None:
    """Run ``hook`` each time R processes events (R_ProcessEvents, which R's
    own interrupt check R_CheckUserInterrupt calls while R code runs): the
    one moment at which asking R to stop is safe, since R's check follows."""
    rpy2_modules().callbacks.processevents = hook


# -- addresses and rpy2 wrappers -------------------------------------------------


def cdata(sexp):
    """The bare SEXP (a cffi pointer) of an rpy2 object; a bare SEXP as is."""
    return sexp.__sexp__._cdata if hasattr(sexp, "__sexp__") else sexp


def address(pointer) -> int:
    """Where a cffi pointer (an R object, its data) points, as an int."""
    return int(ffi().cast("uintptr_t", pointer))


def as_sexp(pointer: int):
    """A cffi SEXP for an address."""
    return ffi().cast("SEXP", pointer)


def wrap(pointer):
    """An rpy2 object for a bare (protected) SEXP: rpy2 preserves it from then on."""
    return rpy2_modules().conversion._cdata_res_to_rinterface(lambda: pointer)()


def preserved_by_rpy2(pointer) -> bool:
    """Whether an rpy2 wrapper holds this R object (rpy2's preserve table)."""
    return address(pointer) in rpy2_modules().capi._R_PRESERVED


# -- allocation and protection ---------------------------------------------------


def allocate(sexptype: int, n: int):
    """A new R vector, protected: the caller calls :func:`unprotect`.

    R raises "cannot allocate" from C when it runs out of memory; callers
    make vectors that may be large through R code under tryCatch instead."""
    lib = rlib()
    return lib.Rf_protect(lib.Rf_allocVector(sexptype, n))


def unprotect(count: int) -> None:
    """Release the newest ``count`` of R's protections."""
    if count:
        rlib().Rf_unprotect(count)


def take_element(box, index: int):
    """Element ``index`` of the R list ``box``, protected, with the list's
    reference to it dropped (so it is not counted as shared)."""
    lib, pointer = rlib(), cdata(box)
    element = lib.Rf_protect(lib.VECTOR_ELT(pointer, index))
    lib.SET_VECTOR_ELT(pointer, index, lib.R_NilValue)
    return element


_ACCESSORS = {REALSXP: "REAL", INTSXP: "INTEGER", LGLSXP: "LOGICAL", RAWSXP: "RAW"}


def data_address(pointer, sexptype: int) -> int:
    """Where a numeric or raw vector's elements live (REAL/INTEGER/LOGICAL/RAW:
    R's API, unlike DATAPTR)."""
    return address(getattr(rlib(), _ACCESSORS[sexptype])(pointer))


def string_pointers_address(pointer) -> int | None:
    """Where a character vector's element pointers (its CHARSXPs) live, for
    reading only: R caches strings, so equal pointers are equal strings.
    None for an ALTREP vector (its STRING_PTR_RO may allocate, and an R error
    there would jump over Python's frames) and where R does not export what
    is needed."""
    pointers, altrep = _optional("STRING_PTR_RO"), _optional("ALTREP")
    if pointers is None or altrep is None:
        return None
    at = address(pointer)
    if altrep(at):
        return None
    return pointers(at)


def na_string_address() -> int:
    """The address of NA_character_'s CHARSXP (R_NaString; one for all of R)."""
    return address(rlib().R_NaString)


@functools.cache
def _memchr():
    """The C library's memchr: is there a NUL in a buffer of any kind (bytes,
    a numpy array), at memory speed and with no copy."""
    memchr = ctypes.CDLL(None).memchr
    memchr.restype, memchr.argtypes = ctypes.c_void_p, (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
    return memchr


def _holds_nul(buffer, pointer) -> bool:
    """bytes and bytearray answer ``in`` at memory speed themselves; other
    buffers (numpy arrays) are asked through memchr."""
    if isinstance(buffer, (bytes, bytearray)):
        return b"\x00" in buffer
    return bool(len(buffer)) and bool(_memchr()(int(ffi().cast("uintptr_t", pointer)), 0, len(buffer)))


class EmbeddedNul(ValueError):
    """Bytes holding NUL, which no R string can hold."""


def utf8_string(buffer: bytes | bytearray):
    """A length-1 character vector (rpy2 object) made from UTF-8 bytes, with
    no other copy on the Python side (rpy2's constructor copies twice).
    What R's mkCharLenCE would refuse (NUL, too many bytes) is refused here
    first: its error, raised from C, would end the process (see the
    module's notes on errors raised in C)."""
    lib = rlib()
    if len(buffer) > MAX_R_STRING:
        raise ValueError(f"an R string holds at most {MAX_R_STRING} bytes")
    pointer = ffi().from_buffer(buffer)
    if _holds_nul(buffer, pointer):
        raise EmbeddedNul("embedded nul in string")
    charsxp = lib.Rf_protect(lib.Rf_mkCharLenCE(pointer, len(buffer), lib.CE_UTF8))
    try:
        return wrap(lib.Rf_protect(lib.Rf_ScalarString(charsxp)))
    finally:
        lib.Rf_unprotect(2)


# -- calling R without rpy2 objects for the call ---------------------------------

#: Types that R's evaluator does not return as they are (a symbol is looked
#: up, a call is made, ...): a value of these cannot stand in a call as itself.
_EVALUATED_TYPES = frozenset(SEXP_TYPES[n][0] for n in ("SYMSXP", "LANGSXP", "PROMSXP", "DOTSXP", "BCODESXP"))
_CALL_MAKERS = {1: "Rf_lang2", 2: "Rf_lang3", 3: "Rf_lang4", 4: "Rf_lang5", 5: "Rf_lang6"}


def can_call_with(args: list) -> bool:
    """Whether :func:`try_call` can take these arguments: at most five,
    each a value that R evaluates to itself."""
    typeof = _optional("TYPEOF")
    return (
        typeof is not None
        and len(args) in _CALL_MAKERS
        and not any(typeof(address(cdata(a))) in _EVALUATED_TYPES for a in args)
    )


def try_call(function, args: list):
    """``function(*args)`` evaluated by R_tryEval in the global environment,
    as rpy2's closure call does, without rpy2's objects and bookkeeping for
    the call itself (a trivial cell makes several such calls). ``args`` must
    pass :func:`can_call_with`. Returns the result as an rpy2 object; an
    error that escapes R's handlers raises rpy2's RRuntimeError, as rpy2's
    call would."""
    lib, ffi_ = rlib(), ffi()
    call = lib.Rf_protect(getattr(lib, _CALL_MAKERS[len(args)])(cdata(function), *(cdata(a) for a in args)))
    try:
        failed = ffi_.new("int *", 0)
        result = lib.R_tryEval(call, lib.R_GlobalEnv, failed)
        if failed[0]:
            modules = rpy2_modules()
            raise modules.RRuntimeError(modules.capi._geterrmessage())
        lib.Rf_protect(result)
        try:
            return wrap(result)
        finally:
            lib.Rf_unprotect(1)
    finally:
        lib.Rf_unprotect(1)


@functools.cache
def _symbol_for(name: str):
    return rlib().Rf_install(name.encode())


def has_true_attribute(pointer, name: str) -> bool:
    """Whether the R object's attribute ``name`` is TRUE (read in C)."""
    lib, typeof = rlib(), _optional("TYPEOF")
    value = lib.Rf_getAttrib(pointer, _symbol_for(name))
    return (
        typeof is not None
        and typeof(address(value)) == LGLSXP
        and lib.Rf_xlength(value) == 1
        and first_logical(value) is True
    )


# -- reading small results without rpy2 wrappers ---------------------------------


@functools.cache
def _names_symbol():
    return rlib().Rf_install(b"names")


def names_of(pointer) -> list[str]:
    """The names of an R vector, read in C ([] when it has none): rpy2's
    ``.names`` runs an R call, and each name read makes an rpy2 object."""
    lib, ffi_ = rlib(), ffi()
    names = lib.Rf_getAttrib(pointer, _names_symbol())
    if names == lib.R_NilValue:
        return []
    return [
        ffi_.string(lib.R_CHAR(lib.STRING_ELT(names, i))).decode("utf-8", "replace")
        for i in range(lib.Rf_xlength(names))
    ]


def element(pointer, index: int):
    """Element ``index`` of an R list, as a bare SEXP (the list protects it)."""
    return rlib().VECTOR_ELT(pointer, index)


def first_string(pointer) -> str | None:
    """The first string of a character vector (None for NA or when empty)."""
    lib = rlib()
    if lib.Rf_xlength(pointer) == 0:
        return None
    charsxp = lib.STRING_ELT(pointer, 0)
    if charsxp == lib.R_NaString:
        return None
    return ffi().string(lib.R_CHAR(charsxp)).decode("utf-8", "replace")


def length(pointer) -> int:
    return rlib().Rf_xlength(pointer)


def first_logical(pointer) -> bool | None:
    """The first value of a logical vector (None for NA or when empty)."""
    lib = rlib()
    if lib.Rf_xlength(pointer) == 0:
        return None
    value = lib.LOGICAL(pointer)[0]
    return None if value == NA_INTEGER else bool(value)


def scalar_vector(value: bool | int | float):
    """A length-1 logical, integer or double vector (rpy2 object), made in C:
    rpy2's constructors cost several times more for one value."""
    lib = rlib()
    if isinstance(value, bool):
        made = lib.Rf_ScalarLogical(int(value))
    elif isinstance(value, int):
        made = lib.Rf_ScalarInteger(value)
    else:
        made = lib.Rf_ScalarReal(value)
    try:
        return wrap(lib.Rf_protect(made))
    finally:
        lib.Rf_unprotect(1)


# -- symbols and bindings --------------------------------------------------------


def symbol(name: str):
    """R's symbol for ``name``. Names R would refuse (empty, NUL, longer than
    R's limit) raise ValueError here: from Rf_install, R's error would jump
    out of C and end the process."""
    if not acceptable_name(name):
        raise ValueError(
            f"not a name R accepts: {_shown(name)} (R names are 1 to {MAX_SYMBOL_BYTES} bytes of text, without NUL)"
        )
    return rlib().Rf_install(ffi().new("char[]", name.encode("utf-8")))


def acceptable_name(name: str) -> bool:
    """Whether R can have a variable called ``name`` (Rf_install would not raise)."""
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: not text
        return False
    return 0 < len(encoded) <= MAX_SYMBOL_BYTES and b"\x00" not in encoded


def _shown(name: str) -> str:
    return repr(name) if len(name) <= 40 else f"{name[:20]!r}... ({len(name)} characters)"


def define(sym, value, env) -> None:
    """Bind ``value`` to ``sym`` in ``env`` as R's ``<-`` does: no copy."""
    rlib().Rf_defineVar(sym, cdata(value), cdata(env))


def binding_kind(env, sym) -> str:
    """ "ordinary" for an existing binding that is neither active nor locked;
    "new" when there is none and one may be added; "special" otherwise, and
    wherever R does not say (such bindings go through R's own ``assign``)."""
    exists, active, locked, env_locked = (
        _optional(name)
        for name in ("R_existsVarInFrame", "R_BindingIsActive", "R_BindingIsLocked", "R_EnvironmentIsLocked")
    )
    if None in (exists, active, locked, env_locked):
        return "special"
    env_at, sym_at = address(cdata(env)), address(sym)
    if not exists(env_at, sym_at):  # the two checks below raise for a missing binding
        return "special" if env_locked(env_at) else "new"
    return "special" if active(sym_at, env_at) or locked(sym_at, env_at) else "ordinary"


def bound_value(env, sym):
    """The value bound to ``sym`` in ``env`` itself, as a bare SEXP, without
    forcing a promise; None where R does not export the lookup."""
    find = _optional("Rf_findVarInFrame3")
    if find is None:
        return None
    return as_sexp(find(address(cdata(env)), address(sym), 1))


# -- overwriting in place ----------------------------------------------------------


def overwritable(pointer, sexptype: int, length: int) -> bool:
    """Whether R itself would modify this vector in place (``x[] <- v``): a
    plain, non-ALTREP vector of ``sexptype`` and ``length`` with no
    attributes, referenced exactly once (by its binding) and by no rpy2
    wrapper. False also when R does not export what is needed to tell."""
    typeof, altrep = _optional("TYPEOF"), _optional("ALTREP")
    refs_one, no_attributes = _referenced_once(), _has_no_attributes()
    if None in (typeof, altrep, refs_one, no_attributes):
        return False
    at = address(pointer)
    return (
        typeof(at) == sexptype
        and not altrep(at)
        and rlib().Rf_xlength(pointer) == length
        and no_attributes(at)
        and refs_one(at)
        and not preserved_by_rpy2(pointer)
    )


@functools.cache
def _referenced_once() -> Callable[[int], bool] | None:
    """R's reference count is exactly 1: through MAYBE_SHARED/NO_REFERENCES
    (API functions from R 4.5), else REFCNT/TRACKREFS (exported before)."""
    shared, unreferenced = _optional("MAYBE_SHARED"), _optional("NO_REFERENCES")
    if shared is not None and unreferenced is not None:
        return lambda at: not shared(at) and not unreferenced(at)
    refcnt, tracked = _optional("REFCNT"), _optional("TRACKREFS")
    if refcnt is not None and tracked is not None:
        return lambda at: bool(tracked(at)) and refcnt(at) == 1
    return None


@functools.cache
def _has_no_attributes() -> Callable[[int], bool] | None:
    any_attrib = _optional("ANY_ATTRIB")
    if any_attrib is not None:
        return lambda at: not any_attrib(at)
    attrib = _optional("ATTRIB")
    if attrib is not None:
        nil = address(rlib().R_NilValue)
        return lambda at: (attrib(at) or 0) == nil
    return None


# -- interrupts and the C stack ------------------------------------------------------


def request_interrupt(pending: bool) -> bool:
    """Set R's pending-interrupt flag. Only while R runs R code (from an
    :func:`on_process_events` hook): R also acts on the flag at the end of
    each garbage collection, and one that a direct call such as
    Rf_allocVector triggers would jump out of C over Python's frames. False
    when R does not export the flag."""
    flag = _variable("R_interrupts_pending", ctypes.c_int)
    if flag is None:
        return False
    flag.value = int(pending)
    return True


def c_stack() -> tuple[int, int] | None:
    """(R_CStackStart, R_CStackLimit), or None where R does not export them."""
    start, limit = _variable("R_CStackStart", ctypes.c_size_t), _variable("R_CStackLimit", ctypes.c_size_t)
    return None if start is None or limit is None else (start.value, limit.value)


def set_c_stack(start: int, limit: int) -> None:
    _variable("R_CStackStart", ctypes.c_size_t).value = start
    _variable("R_CStackLimit", ctypes.c_size_t).value = limit


_thread_stacks = threading.local()


def c_stack_for_this_thread() -> tuple[int, int] | None:
    """R's C stack check values for the calling thread: the top of its own
    stack and 95% of its size (R's own margin, room to unwind and report).

    R measures stack use from the top of the thread it started on, and rpy2
    switches the check off; with these set while a thread holds R, runaway
    recursion is an R error on any thread instead of a crash. None where
    the stack is not known."""
    if not hasattr(_thread_stacks, "value"):
        stack = thread_stack()
        _thread_stacks.value = None if stack is None else (stack[0], int(stack[1] * 0.95))
    return _thread_stacks.value


def thread_stack() -> tuple[int, int] | None:
    """(top address, size) of the calling thread's stack, from glibc's
    pthread_getattr_np; None where that is not available."""
    try:
        libc = ctypes.CDLL(None)
        libc.pthread_self.restype = ctypes.c_ulong
        attr = ctypes.create_string_buffer(256)  # larger than any pthread_attr_t
        if libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr) != 0:
            return None
        base, size = ctypes.c_void_p(), ctypes.c_size_t()
        try:
            if libc.pthread_attr_getstack(attr, ctypes.byref(base), ctypes.byref(size)) != 0:
                return None
        finally:
            libc.pthread_attr_destroy(attr)
    except (OSError, AttributeError):
        return None
    return base.value + size.value, size.value  # the stack grows down from its top


# -- optional symbols, looked up at run time -----------------------------------------


@functools.cache
def _libr_ctypes() -> ctypes.CDLL:
    """The libR that rpy2 loaded, opened again through ctypes (the same
    library in memory), for the symbols rpy2 does not declare or that R may
    stop exporting."""
    import rpy2.situation

    return ctypes.CDLL(rpy2.situation.get_rlib_path(rpy2_modules().openrlib.R_HOME, platform.system()))


_P = ctypes.c_void_p
_SIGNATURES = {  # argument types, result type
    "TYPEOF": ([_P], ctypes.c_int),
    "ALTREP": ([_P], ctypes.c_int),
    "MAYBE_SHARED": ([_P], ctypes.c_int),
    "NO_REFERENCES": ([_P], ctypes.c_int),
    "REFCNT": ([_P], ctypes.c_int),
    "TRACKREFS": ([_P], ctypes.c_int),
    "ANY_ATTRIB": ([_P], ctypes.c_int),
    "ATTRIB": ([_P], _P),
    "R_existsVarInFrame": ([_P, _P], ctypes.c_int),
    "R_BindingIsActive": ([_P, _P], ctypes.c_int),
    "R_BindingIsLocked": ([_P, _P], ctypes.c_int),
    "R_EnvironmentIsLocked": ([_P], ctypes.c_int),
    "Rf_findVarInFrame3": ([_P, _P, ctypes.c_int], _P),
    "STRING_PTR_RO": ([_P], _P),
}


@functools.cache
def _optional(name: str):
    """libR's function ``name`` (declared in _SIGNATURES), or None when R does not export it."""
    try:
        fn = getattr(_libr_ctypes(), name)
    except AttributeError:
        return None
    fn.argtypes, fn.restype = _SIGNATURES[name]
    return fn


@functools.cache
def _variable(name: str, ctype):
    try:
        return ctype.in_dll(_libr_ctypes(), name)
    except ValueError:
        return None


#: API entry points the session cannot work without (rpy2 declares most).
REQUIRED = (
    "Rf_allocVector",
    "Rf_protect",
    "Rf_unprotect",
    "VECTOR_ELT",
    "SET_VECTOR_ELT",
    "R_NilValue",
    "REAL",
    "INTEGER",
    "LOGICAL",
    "RAW",
    "R_NaString",
    "Rf_mkCharLenCE",
    "Rf_ScalarString",
    "Rf_install",
    "Rf_defineVar",
    "Rf_xlength",
    "TYPEOF",
    "R_tryEval",
    "Rf_lang2",
    "Rf_lang3",
    "Rf_lang4",
    "Rf_lang5",
    "Rf_lang6",
    "Rf_getAttrib",
)
#: Optional symbol -> what is slower or missing without it.
OPTIONAL_FEATURES = {
    "R_interrupts_pending": "Ctrl-C stopping running R code",
    "R_CStackLimit": "R's C stack check (deep recursion is an R error, not a crash)",
    "R_CStackStart": "R's C stack check (deep recursion is an R error, not a crash)",
    "Rf_findVarInFrame3": "re-pushing an array into the same R vector (in place)",
    "ALTREP": "re-pushing an array into the same R vector (in place); fast string pulls",
    "STRING_PTR_RO": "fast string pulls (distinct strings found from R's string pointers)",
    "R_existsVarInFrame": "pushes without R's assign (faster)",
    "R_BindingIsActive": "pushes without R's assign (faster)",
    "R_BindingIsLocked": "pushes without R's assign (faster)",
    "R_EnvironmentIsLocked": "pushes without R's assign (faster)",
}
#: Alternatives: the feature holds when any one of these groups is exported.
ALTERNATIVES = {
    "reference counts (in-place re-push)": (("MAYBE_SHARED", "NO_REFERENCES"), ("REFCNT", "TRACKREFS")),
    "attribute check (in-place re-push)": (("ANY_ATTRIB",), ("ATTRIB",)),
}


def cffi_mode() -> str:
    """ "API" (rpy2's compiled module) or "ABI" (libR opened at run time)."""
    module = getattr(rpy2_modules().openrlib, "_rinterface_cffi", None)
    return "API" if getattr(module, "__name__", "").endswith("_api") else "ABI"


def exported(name: str) -> bool:
    """Whether the loaded libR exports ``name`` (function or variable)."""
    return hasattr(_libr_ctypes(), name)


def features() -> dict[str, Any]:
    """What this R and rpy2 offer: for doctor and bug reports. Which optional
    symbols are missing, what that costs, and which alternative is used."""
    missing = {name: why for name, why in OPTIONAL_FEATURES.items() if not exported(name)}
    chosen = {}
    for feature, groups in ALTERNATIVES.items():
        group = next((g for g in groups if all(exported(n) for n in g)), None)
        chosen[feature] = "+".join(group) if group else None
    return {
        "rpy2": rpy2_modules().version,
        "cffi_mode": cffi_mode(),
        "required": len(REQUIRED),
        "required_missing": [n for n in REQUIRED if not exported(n)],
        "missing": missing,
        "alternatives": chosen,
    }
