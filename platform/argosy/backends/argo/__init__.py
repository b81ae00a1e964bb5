"""The Argo Workflows backend: compile a pipeline with Hera, submit, watch, read logs."""

from argosy.backends.argo.compiler import ClusterConfig, compile_pipeline

__all__ = ["ClusterConfig", "compile_pipeline"]
