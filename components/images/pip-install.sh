#!/bin/sh
# pip install inside an image build, with the pip settings `argosy build` passes through:
# build arguments PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_TRUSTED_HOST (unset when empty)
# and the build secret `pip-ca`, a CA bundle for a TLS-intercepting proxy or private index.
set -eu
if [ -f /run/secrets/pip-ca ]; then
    export PIP_CERT=/run/secrets/pip-ca
fi
for name in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do
    eval "value=\${$name:-}"
    if [ -z "$value" ]; then
        unset "$name"
    fi
done
exec python -m pip install --no-cache-dir --disable-pip-version-check --no-input "$@"
