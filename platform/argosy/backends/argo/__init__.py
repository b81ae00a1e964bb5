"""The Argo Workflows backend: compile a pipeline with Hera, submit, watch, read logs, resume.

`compile_pipeline` turns a pipeline into a Hera Workflow, WorkflowTemplate or CronWorkflow;
`submit_pipeline` packs the code, records the run and creates the Workflow; `resume_run`
resubmits an Argo run with its finished steps cloned; `schedule_pipeline` creates or updates
a pipeline's CronWorkflow (`unschedule_pipeline` deletes it); `pod_logs` reads a task's pod logs.
"""

from argosy.backends.argo.cluster import ClusterConfig
from argosy.backends.argo.compiler import compile_pipeline, render_yaml
from argosy.backends.argo.logs import pod_logs
from argosy.backends.argo.schedule import schedule_pipeline, unschedule_pipeline
from argosy.backends.argo.submit import WorkflowHandle, resume_run, submit_pipeline

__all__ = [
    "ClusterConfig",
    "WorkflowHandle",
    "compile_pipeline",
    "pod_logs",
    "render_yaml",
    "resume_run",
    "schedule_pipeline",
    "submit_pipeline",
    "unschedule_pipeline",
]
