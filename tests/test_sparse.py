"""scipy sparse matrices and R's Matrix package (issue 17, item 4): csc,
csr and coo, arrays and matrices, both ways, values exact, shapes and
dimnames kept."""

from __future__ import annotations

import numpy as np
import pytest

import rmagic_ext
from helpers import R

sparse = pytest.importorskip("scipy.sparse")
r = rmagic_ext.r

DENSE = np.array([[0.0, 1.5, 0.0], [2.0**60 + 1, 0.0, -3.25], [0.0, 0.0, 1e-300], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    "make, rclass",
    [
        (sparse.csc_array, "dgCMatrix"),
        (sparse.csc_matrix, "dgCMatrix"),
        (sparse.csr_array, "dgRMatrix"),
        (sparse.csr_matrix, "dgRMatrix"),
        (sparse.coo_array, "dgTMatrix"),
        (sparse.coo_matrix, "dgTMatrix"),
    ],
)
def test_each_layout_becomes_its_matrix_class_and_comes_back(ip, make, rclass):
    r.m = make(DENSE)
    assert r("class(m)[1]") == rclass
    assert list(r("dim(m)")) == [4, 3]
    assert r("identical(as.matrix(m), matrix(c(0, 2^60 + 1, 0, 0, 1.5, 0, 0, 0, 0, -3.25, 1e-300, 0), 4, 3))")
    back = r.m
    assert back.format == make(DENSE).format and back.shape == (4, 3)
    assert np.array_equal(back.toarray(), DENSE)  # exactly: the doubles are R's


def test_dimnames_go_both_ways(ip):
    R(ip, "named <- Matrix::sparseMatrix(i = c(2, 1), j = c(1, 2), x = c(1, 2), dimnames = list(c('a', 'b'), NULL))")
    m = r.named
    assert m.dimnames == (["a", "b"], None)
    r.again = m
    assert r("identical(dimnames(again), list(c('a', 'b'), NULL))")


def test_booleans_are_logical_matrices(ip):
    r.flags = sparse.csc_array(np.array([[True, False], [False, True]]))
    assert r("class(flags)[1]") == "lgCMatrix"
    assert r.flags.dtype == bool and r.flags.toarray().tolist() == [[True, False], [False, True]]


def test_in_a_kernel(kernel):
    run = kernel.execute(
        "import numpy as np, scipy.sparse as sp\nm = sp.random(50, 40, density=0.1, format='csc', rng=1)"
    )
    assert run.error is None, run.error
    run = kernel.execute("%%R -i m -o back\nback <- m * 2\ncat(class(m), Matrix::nnzero(m) == length(m@x), '\\n')")
    assert run.error is None, run.error
    assert run.text() == "dgCMatrix TRUE \n"
    check = kernel.execute("print(type(back).__name__, np.array_equal(back.toarray(), 2 * m.toarray()))")
    assert check.text() == "csc_array True\n"


def test_unsupported_sparse_values_are_a_clear_error(ip):
    with pytest.raises(rmagic_ext.ConversionError, match="no Matrix counterpart"):
        r.c = sparse.csc_array(np.array([[1j, 0]]))
