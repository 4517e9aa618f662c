"""Dates, times and durations: numpy datetime64/timedelta64, pandas datetime
columns (naive or with a time zone), ``datetime`` scalars <-> R's Date,
POSIXct and difftime.

Everything is vectorised integer/float arithmetic on whole arrays.

Conventions:
- A naive timestamp is a wall-clock time in R's local time zone, which is
  what a POSIXct without ``tzone`` means in R: it prints the same wall-clock
  time in R and comes back naive.
- A time zone travels as R's ``tzone``: zoneinfo/pytz names as they are,
  fixed offsets as POSIX strings such as ``<+0530>-05:30``.
- POSIXct holds seconds in a double: microseconds survive, nanoseconds are
  rounded (with a warning). Pulled timestamps are ``datetime64[us]``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
import zoneinfo

import numpy as np
import pandas as pd

from ..errors import ConversionError, ConversionWarning
from ._rt import attr, python_strings, ri, set_attr, strings
from ._bulk import new_vector, r_array
from .vectors import float_vector
from .registry import as_arrays

NAT = np.iinfo(np.int64).min
_US_PER_S = 1_000_000
_FIXED = re.compile(r"^<([+-])(\d{2})(\d{2})>[+-]?\d{1,2}(?::\d{2})?$")
_DIFFTIME_SECONDS = {"secs": 1, "mins": 60, "hours": 3600, "days": 86400, "weeks": 604800}


# -- time zones ----------------------------------------------------------------


def local_tz() -> dt.tzinfo:
    """The time zone R formats local times in: R's TZ variable (which R code
    may have changed with Sys.setenv), else the system's /etc/localtime."""
    name = str(ri().baseenv["Sys.getenv"]("TZ")[0])
    if name:
        try:
            return zoneinfo.ZoneInfo(name.lstrip(":"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    if os.path.exists("/etc/localtime"):
        with open("/etc/localtime", "rb") as f:
            return zoneinfo.ZoneInfo.from_file(f)
    return dt.timezone.utc


def _is_utc(tz: dt.tzinfo) -> bool:
    """UTC under any name (the usual local zone of servers and containers)."""
    probes = (dt.datetime(1970, 1, 1), dt.datetime(2000, 1, 1), dt.datetime(2000, 7, 1))
    return all(tz.utcoffset(p) == dt.timedelta(0) for p in probes)


def tz_to_r(tz: dt.tzinfo) -> str:
    """R's ``tzone`` for a Python time zone."""
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if name:
        return name
    if tz in (dt.timezone.utc,) or str(tz) == "UTC":
        return "UTC"
    offset = tz.utcoffset(None)
    if offset is None:
        raise ConversionError(f"time zone {tz!r} has no name R knows and no fixed offset")
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    posix_sign = "-" if minutes >= 0 else "+"  # POSIX counts hours west of UTC
    return f"<{sign}{hours:02d}{mins:02d}>{posix_sign}{hours:02d}:{mins:02d}"


def tz_from_r(tzone: str | None) -> dt.tzinfo | str | None:
    """The Python time zone for R's ``tzone``; None for local (naive) time."""
    if not tzone:
        return None
    match = _FIXED.match(tzone)
    if match:
        sign, hours, mins = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(mins))
        return dt.timezone(offset if sign == "+" else -offset)
    if tzone in ("UTC", "GMT"):
        return "UTC"
    return tzone


# -- Python -> R ---------------------------------------------------------------

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9, "ps": 10**12, "fs": 10**15, "as": 10**18}
_SECONDS_PER = {"m": 60, "h": 3600, "D": 86400, "W": 7 * 86400}
_EXACT_SECONDS = 2**32  # below this many seconds from 1970, a double holds every microsecond


def seconds_vector(values: np.ndarray, what: str):
    """R's double seconds for a datetime64 (UTC instants) or timedelta64
    array of any unit, written straight into R's memory; NaT is NA. The
    seconds are computed from the counts of the array's own unit (never
    through a cast to a finer unit, which overflows int64 for large values).
    Lost precision (below a microsecond; microseconds far from 1970) is
    said once. Years and months have no fixed length: refused."""
    unit, step = np.datetime_data(values.dtype)
    if unit in ("Y", "M", "generic"):
        raise ConversionError(
            f"{what} has dtype {values.dtype}: a {'year' if unit == 'Y' else 'month'} is no "
            "fixed number of seconds; convert it to days or seconds first"
        )
    ints = values.view(np.int64)
    sexp, seconds = new_vector(ri().FloatSexpVector, len(ints))
    if unit in _SECONDS_PER:
        np.multiply(ints, float(_SECONDS_PER[unit] * step), out=seconds)
    else:
        np.divide(ints, _PER_SECOND[unit], out=seconds)
        if step != 1:
            seconds *= step
    na = ints == NAT
    has_na = bool(na.any())
    if has_na:
        seconds[na] = float(ri().NA_Real)
    present = ints[~na] if has_na else ints
    per_second = _PER_SECOND.get(unit, 1) // step if unit in _PER_SECOND else 1
    if per_second > 10**6 and (present % (per_second // 10**6)).any():
        warnings.warn(
            f"{what}: sub-microsecond precision rounded (R stores seconds as double)", ConversionWarning, stacklevel=4
        )
    elif (
        unit == "us"
        and step == 1
        and present.size
        and max(-int(present.min()), int(present.max())) >= _EXACT_SECONDS * per_second
    ):
        back = np.round(seconds[~na] * per_second) if has_na else np.round(seconds * per_second)
        if (back.astype(np.int64) != present).any():
            warnings.warn(
                f"{what}: some microseconds are rounded (R's double seconds are not exact that far from 1970)",
                ConversionWarning,
                stacklevel=4,
            )
    return sexp


def posixct(values: np.ndarray, tzone: str, what: str):
    """POSIXct from UTC instants held in a datetime64 array."""
    vector = seconds_vector(values, what)
    set_attr(vector, "class", strings(["POSIXct", "POSIXt"]))
    set_attr(vector, "tzone", strings([tzone]))
    return vector


def localize_naive(series: pd.Series, tz: dt.tzinfo, what: str) -> pd.Series:
    """UTC instants of naive wall-clock times read in R's local time zone;
    times that do not exist or are ambiguous there (DST) are warned about."""
    localized = series.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    lost = localized.isna() & series.notna()
    if lost.any():
        warnings.warn(
            f"{what}: {int(lost.sum())} wall-clock times do not exist or are ambiguous "
            f"in R's local time zone and became NA",
            ConversionWarning,
            stacklevel=4,
        )
    return localized


def datetime_series_to_r(series: pd.Series, what: str):
    tz = series.dt.tz
    if tz is not None:
        return posixct(series.dt.tz_convert(None).to_numpy(), tz_to_r(tz), what)  # UTC instants
    local = local_tz()
    if _is_utc(local):
        return posixct(series.to_numpy(), "", what)  # wall-clock times are the instants
    utc = localize_naive(series, local, what).dt.tz_convert(None)
    return posixct(utc.to_numpy(), "", what)


def date_vector(days: np.ndarray, na: np.ndarray | None):
    vector = float_vector(days.astype(np.float64), na)
    set_attr(vector, "class", strings(["Date"]))
    return vector


def datetime64_array_to_r(values: np.ndarray, what: str = "array"):
    """numpy datetime64: day precision (or coarser) is a Date, finer a naive POSIXct."""
    unit = np.datetime_data(values.dtype)[0]
    if unit in ("Y", "M", "W", "D"):
        days = _cast_exactly(values, "datetime64[D]", what)
        na = np.isnat(days)
        return date_vector(np.where(na, 0, days.view(np.int64)), na if na.any() else None)
    if unit not in ("s", "ms", "us", "ns"):  # pandas holds these four only
        values = _cast_exactly(values, "datetime64[s]" if unit in _SECONDS_PER else "datetime64[ns]", what)
    return datetime_series_to_r(pd.Series(values), what)


def _cast_exactly(values: np.ndarray, dtype: str, what: str) -> np.ndarray:
    """``values`` in another unit, or a clear error where the counts do not
    fit it (numpy wraps them around silently, or raises its own error)."""
    try:
        cast = values.astype(dtype)
    except (OverflowError, ValueError):
        cast = None
    if (
        cast is None
        or (np.isnat(cast) != np.isnat(values)).any()
        or (cast.astype(values.dtype) != values)[~np.isnat(values)].any()
    ):
        raise ConversionError(
            f"{what} of dtype {values.dtype} holds times that {dtype} cannot hold exactly "
            "(beyond its range, or finer than it); convert them in Python first"
        ) from None
    return cast


def difftime(values: np.ndarray, what: str):
    vector = seconds_vector(values, what)
    set_attr(vector, "class", strings(["difftime"]))
    set_attr(vector, "units", strings(["secs"]))
    return vector


def date_objects_to_r(values, what: str):
    """A sequence of datetime.date (None/NaT for NA) as a Date vector."""
    days = pd.Series(pd.to_datetime(pd.Series(values, dtype=object), errors="raise")).to_numpy()
    return datetime64_array_to_r(days.astype("datetime64[D]"), what)


# -- R -> Python ---------------------------------------------------------------

#: Microseconds that datetime64[us] / timedelta64[us] hold: about 292,000 years either way.
_MAX_MICROS = float(2**63 - 1024)


def _micros_from_seconds(sexp, seconds_per_unit: float = 1) -> np.ndarray:
    """int64 microseconds from an R double vector of time units, NA as NaT;
    times beyond numpy's microsecond range (or infinite) are a clear error,
    never a number wrapped around."""
    values = r_array(sexp)
    na = np.isnan(values)
    micros = np.round(np.where(na, 0.0, values) * seconds_per_unit * _US_PER_S)
    if (np.abs(micros) > _MAX_MICROS).any():
        raise ConversionError(
            "an R time is beyond what numpy's microsecond times hold (about 292,000 years "
            "from 1970, or infinite); convert it in R first (e.g. to a number or text)"
        )
    micros = micros.astype(np.int64)
    micros[na] = NAT
    return micros


_MAX_DAYS = float((2**63 - 1) // 86400)


def posixct_to_series(sexp, name=None) -> pd.Series:
    tzone = attr(sexp, "tzone")
    tz = tz_from_r(str(tzone[0]) if tzone is not None and len(tzone) else None)
    instants = pd.Series(_micros_from_seconds(sexp).view("datetime64[us]"), name=name)
    if tz is None:
        local = local_tz()
        if _is_utc(local):
            return instants  # the wall-clock times are the UTC instants
        return instants.dt.tz_localize("UTC").dt.tz_convert(local).dt.tz_localize(None)
    return instants.dt.tz_localize("UTC").dt.tz_convert(tz)


def date_to_series(sexp, name=None) -> pd.Series:
    days = r_array(sexp)
    na = np.isnan(days)
    whole = np.floor(np.where(na, 0.0, days))
    if (np.abs(whole) > _MAX_DAYS).any():
        raise ConversionError(
            "an R Date is beyond what numpy's datetime64[s] holds (about 292 billion years "
            "from 1970, or infinite); convert it in R first (e.g. to a number or text)"
        )
    stamps = whole.astype(np.int64).astype("datetime64[D]").astype("datetime64[s]")
    stamps[na] = np.datetime64("NaT", "s")
    return pd.Series(stamps, name=name)


def difftime_to_series(sexp, name=None) -> pd.Series:
    units = attr(sexp, "units")
    scale = _DIFFTIME_SECONDS.get(str(units[0]) if units is not None else "secs", 1)
    return pd.Series(_micros_from_seconds(sexp, scale).view("timedelta64[us]"), name=name)


def shaped(series: pd.Series, sexp, scalar: bool = True):
    """A classed vector (factor, POSIXct, Date, difftime) in the shape the
    conversion asks for (registry.shaped). As arrays: a numpy array, or
    pandas' own array where numpy has no dtype for it (Categorical,
    datetimes with a time zone), names dropped. For Python: a length-1
    vector with no names is a scalar (Timestamp, date, Timedelta) when
    ``scalar``; others a Series, indexed by the vector's names. An R
    array of them (``dim``) is an ndarray of its shape either way, as
    numeric arrays are."""
    dim = attr(sexp, "dim")
    if dim is not None:
        return _with_dim(series, dim, sexp)
    if as_arrays():
        return series.array if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()
    if scalar and len(series) == 1 and attr(sexp, "names") is None:
        value = series.iloc[0]
        return None if pd.isna(value) else value
    names = attr(sexp, "names")
    if names is not None:
        series.index = pd.Index(python_strings(names)[0])
    return series


def _with_dim(series: pd.Series, dim, sexp) -> np.ndarray:
    """A matrix or array of dates, times, durations or factor levels: the
    values in R's shape (column-major), in numpy's dtype where numpy has one
    (objects otherwise: Timestamps with their zone, category labels). Its
    dimnames, which a classed array cannot carry here, are dropped with a
    warning."""
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        values = np.asarray(series.astype(object).where(series.notna(), None), dtype=object)
    else:
        values = series.to_numpy()
    if attr(sexp, "dimnames") is not None:
        warnings.warn(
            "an R array of dates, times or factor levels lost its dimnames: only numeric, logical "
            "and character arrays keep them (RMagics.arrays)",
            ConversionWarning,
            stacklevel=2,
        )
    return values.reshape(tuple(int(d) for d in dim), order="F")
