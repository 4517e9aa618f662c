"""The data the benchmarks move: the 1M-row frame of the issue (int, float,
str with 50k distinct values, bool, category, naive datetime) at any size."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["int", "float", "str", "bool", "category", "datetime"]


def frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i:06d}" for i in range(50_000)], dtype=object)
    return pd.DataFrame(
        {
            "int": rng.integers(0, 10**6, rows),
            "float": rng.random(rows),
            "str": pd.Series(words[rng.integers(0, 50_000, rows)], dtype="str"),
            "bool": rng.random(rows) > 0.5,
            "category": pd.Categorical(rng.choice(["a", "b", "c", "d", "e"], rows)),
            "datetime": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**8, rows), unit="s"),
        }
    )


def words(rows: int, order: str = "shuffled", seed: int = 0) -> pd.Series:
    """The frame's string column alone: 50k distinct words, each drawn at
    random ("shuffled") or cycling through them in order ("in order": what
    R's string cache, and so R's own strsplit, is fastest at)."""
    vocabulary = np.array([f"w{i:06d}" for i in range(50_000)], dtype=object)
    if order == "in order":
        picks = np.arange(rows) % 50_000
    else:
        picks = np.random.default_rng(seed).integers(0, 50_000, rows)
    return pd.Series(vocabulary[picks], dtype="str")


def distinct_strings(rows: int, seed: int = 0) -> pd.Series:
    """A string column whose values are all different (13 characters each)."""
    order = np.random.default_rng(seed).permutation(rows)
    return pd.Series(np.char.add("s", np.char.zfill((order * 7919).astype(str), 12)).astype(object), dtype="str")


STRING_STORAGES = ("object", "pandas str (Arrow)", "pyarrow", "polars")


def strings_as(values: pd.Series, storage: str):
    """A string column in one of the STRING_STORAGES, as a one-column frame."""
    if storage == "object":
        return pd.DataFrame({"s": values.astype(object)})
    if storage == "pandas str (Arrow)":
        return pd.DataFrame({"s": values.astype("str")})
    import pyarrow as pa

    table = pa.table({"s": pa.array(values.astype(object), pa.string())})
    if storage == "pyarrow":
        return table
    import polars

    return polars.from_arrow(table)


def frame_bytes(df: pd.DataFrame) -> int:
    """The frame's own memory: column buffers (object/str columns count their
    8-byte pointers, as R counts its string pointers), not shared str objects."""
    return int(df.memory_usage(deep=False, index=False).sum())


STORAGES = ("pandas (NumPy storage)", "pandas (Arrow storage)", "pyarrow", "polars")


def frame_as(rows: int, storage: str):
    """The same frame in one of the STORAGES: pandas with NumPy buffers (str as
    objects), pandas with every column in Arrow memory, a pyarrow Table, a
    polars DataFrame."""
    df = frame(rows)
    if storage == "pandas (NumPy storage)":
        return df.assign(str=df["str"].astype(object))
    if storage == "pandas (Arrow storage)":
        return df.convert_dtypes(dtype_backend="pyarrow")
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    if storage == "pyarrow":
        return table
    import polars

    return polars.from_arrow(table)
