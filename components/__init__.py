"""Argosy's reusable components: tested ``@step`` functions pipelines import and reuse.

`components.data` makes data sets, `components.features` derives features (co-occurrence in
four variants, from the kernels of `components.cooccurrence`), `components.training` fits
models, `components.evaluation` scores and compares them, and `components.projection` is the
GPU example. The same modules are baked into the ``argosy/components`` image
(``components/images/``), so a pipeline imports them the same way in a checkout, after
``pip install`` and on a cluster.
"""
