"""L'Ecuyer-CMRG random-number streams, as R's ``parallel`` package makes them.

R's ``parallel::nextRNGStream(seed)`` moves a L'Ecuyer-CMRG (MRG32k3a) seed
2^127 steps ahead: the start of the next of 2^64 streams that never overlap.
A map in R (``future.seed = TRUE``, ``mclapply(mc.set.seed = TRUE)``) gives
element i stream i of one base seed. Python engines give us no element
index, so a task's stream is numbered by a 64-bit digest of its arguments
instead: stream k of the base is ``nextRNGStream`` applied k times, computed
here in one jump (the 2^127-step matrices raised to k, 4 bits of k at a time). The same
task draws the same numbers whichever worker runs it, and tasks with other
arguments draw from other streams of the same family.

Plain integer arithmetic, no R: the notebook and every worker compute it alike.
"""

from __future__ import annotations

import functools

M1 = 4294967087
M2 = 4294944443
#: One nextRNGStream: the MRG32k3a transition matrices raised to 2^127.
A1P127 = ((2427906178, 3580155704, 949770784), (226153695, 1230515664, 3580155704), (1988835001, 986791581, 1230515664))
A2P127 = ((1464411153, 277697599, 1610723613), (32183930, 1464411153, 1022607788), (2824425944, 32183930, 2093834863))
#: Stream numbers are digests of this many bits.
STREAM_BITS = 64

Matrix = tuple[tuple[int, int, int], ...]


def _mat_mul(a: Matrix, b: Matrix, m: int) -> Matrix:
    def cell(i: int, j: int) -> int:
        return sum(a[i][k] * b[k][j] for k in range(3)) % m

    return tuple((cell(i, 0), cell(i, 1), cell(i, 2)) for i in range(3))


def _mat_vec(a: Matrix, v: tuple[int, int, int], m: int) -> tuple[int, int, int]:
    (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = a
    x, y, z = v
    return (a0 * x + a1 * y + a2 * z) % m, (b0 * x + b1 * y + b2 * z) % m, (c0 * x + c1 * y + c2 * z) % m


_WINDOW = 4  # bits of k per table: 16 tables of 16 matrices each


@functools.lru_cache(maxsize=None)
def _tables(a: Matrix, m: int) -> tuple[tuple[Matrix, ...], ...]:
    """For each 4-bit digit d at position p of k: ``a ** (d * 16**p)`` mod m."""
    identity: Matrix = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    tables = []
    step = a
    for _ in range(STREAM_BITS // _WINDOW):
        row = [identity]
        for _ in range((1 << _WINDOW) - 1):
            row.append(_mat_mul(row[-1], step, m))
        tables.append(tuple(row))
        step = _mat_mul(row[-1], step, m)  # a ** (16**(p+1))
    return tuple(tables)


def _unsigned(x: int) -> int:
    return x & 0xFFFFFFFF


def _signed(x: int) -> int:
    return x - (1 << 32) if x >= 1 << 31 else x


def stream(base: tuple[int, ...] | list[int], k: int) -> list[int]:
    """Stream ``k`` of ``base`` (R's ``.Random.seed`` for "L'Ecuyer-CMRG":
    the kind code and six seeds, as R stores them, signed 32-bit): what
    ``nextRNGStream`` applied ``k`` times gives, as a new ``.Random.seed``."""
    if len(base) != 7:
        raise ValueError(f"a L'Ecuyer-CMRG seed has 7 integers (got {len(base)})")
    if not 0 <= k < 1 << STREAM_BITS:
        raise ValueError(f"stream numbers are 0 to 2**{STREAM_BITS} - 1 (got {k})")
    first = _unsigned(base[1]), _unsigned(base[2]), _unsigned(base[3])
    second = _unsigned(base[4]), _unsigned(base[5]), _unsigned(base[6])
    mask = (1 << _WINDOW) - 1
    for position, (t1, t2) in enumerate(zip(_tables(A1P127, M1), _tables(A2P127, M2))):
        digit = k >> (position * _WINDOW) & mask
        if digit:
            first = _mat_vec(t1[digit], first, M1)
            second = _mat_vec(t2[digit], second, M2)
    return [int(base[0]), *(_signed(x) for x in (*first, *second))]


def stream_number(digest: bytes) -> int:
    """The stream a task draws from: the first 64 bits of its arguments' digest."""
    return int.from_bytes(digest[: STREAM_BITS // 8], "little")
