"""Argosy's reusable components: tested ``@step`` functions pipelines import and reuse.

`components.data` makes data sets, `components.features` derives features (co-occurrence in
four variants, from the kernels of `components.cooccurrence`), `components.training` fits
models, `components.evaluation` scores and compares them, and `components.projection` is the
GPU example. The same modules are baked into the ``argosy/components`` image
(``components/images/``), so a pipeline imports them the same way in a checkout, after
``pip install`` and on a cluster.
"""

import numba

if numba.config.THREADING_LAYER == "default":
    # Argosy's local workers are forked from the scheduler's process. GNU OpenMP, numba's
    # default threading layer on Linux, aborts a forked child once the parent has used it (a
    # notebook or a test that ran a parallel kernel before `.run()`), so the components' prange
    # kernels ask for a fork-safe layer unless the user chose one (NUMBA_THREADING_LAYER).
    # numba reads this at its first parallel launch.
    numba.config.THREADING_LAYER = "forksafe"
