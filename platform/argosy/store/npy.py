"""numpy arrays as the bytes of a ``.npy`` file, taken from the array's memory where they lie.

`npy_parts` gives the header `numpy.save` would write and a view of the data, so an array is
hashed and stored with no copy; the ``npy`` format stores them as a blob, the ``tree`` format as
the entries of a zip container.
"""

from __future__ import annotations

import io
import sys
from typing import Any


def is_ndarray(value: object) -> bool:
    """A plain array (or a memory map of one); subclasses such as masked arrays are not."""
    numpy = sys.modules.get("numpy")  # a value cannot be an array unless numpy is imported
    return (
        numpy is not None
        and type(value) in (numpy.ndarray, numpy.memmap)
        and not value.dtype.hasobject
    )


def is_contiguous(array: Any) -> bool:
    """Laid out in C or Fortran order: `npy_parts` can take its bytes as they are."""
    return bool(array.flags.c_contiguous or array.flags.f_contiguous)


def npy_parts(array: Any) -> list[bytes | memoryview]:
    """The ``.npy`` header and the data of a contiguous array (see `is_contiguous`)."""
    import numpy as np

    fortran = not array.flags.c_contiguous
    data = array.T if fortran else array  # a Fortran-ordered array's transpose is C-ordered
    return [_header(array), memoryview(data.reshape(-1).view(np.uint8))]


def _header(array: Any) -> bytes:
    """The .npy header `numpy.save` writes for this array."""
    import numpy as np

    header = io.BytesIO()
    fields = np.lib.format.header_data_from_array_1_0(array)
    try:
        np.lib.format.write_array_header_1_0(header, fields)
    except ValueError:  # a header over 64 KiB (a huge structured dtype) needs version 2.0
        header = io.BytesIO()
        np.lib.format.write_array_header_2_0(header, fields)
    return header.getvalue()


__all__ = ["is_contiguous", "is_ndarray", "npy_parts"]
