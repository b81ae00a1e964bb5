"""The web UI of the metadata service: runs, a run's graph of steps and its tasks' logs, an
artifact's lineage, the diff of two runs, as server-rendered pages under ``/ui``.

`argosy.web.site.install` puts it on the service's app (`create_app` does); `argosy.web.urls`
builds its stable URLs (``run_url(base, run_id)``) without importing any of it.
"""
