"""Backends: where a pipeline's tasks run. ``local`` runs them on this machine over a warm
worker pool; ``argo`` compiles the pipeline to an Argo Workflow and submits it. Both execute
each task through `argosy.runtime`, so a step behaves the same on a laptop and on a cluster.
"""
