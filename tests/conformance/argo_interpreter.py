"""A local interpreter of the subset of Argo Workflows that Argosy's compiler emits.

No Argo controller can run on these machines, so this harness executes a compiled Workflow
document itself, with Argo's semantics for what it understands, and refuses (raises
`Unsupported`) any field, value or expression it does not: a compiler change that emits
something new fails here until the harness learns it, instead of being silently ignored.

Understood:

* DAG templates: tasks with ``depends`` (``a && b``), ``arguments.parameters``,
  ``withSequence`` (``count``) and ``withParam`` (a JSON list); a dependency that did not
  succeed omits its dependents, and a failure stops new tasks from starting (fail fast);
  ``spec.parallelism`` caps the pods running at once.
* Container templates: ``command`` + ``args`` + ``env`` (values, and ``secretKeyRef`` resolved
  from the secrets the test gives), ``inputs.parameters``, ``outputs.parameters`` with
  ``valueFrom.path``, ``retryStrategy`` (``limit``, ``retryPolicy: Always``, ``backoff``
  ``duration``/``factor``/``cap``), ``activeDeadlineSeconds`` (the attempt is killed and fails),
  ``spec.templateDefaults.container`` merged in as Argo merges it (env by name).
* ``{{...}}`` tags: ``workflow.name``, ``workflow.status`` (onExit only),
  ``workflow.parameters.X``, ``inputs.parameters.X``, ``tasks.T.outputs.parameters.P`` (of
  ancestors only, as Argo validates), ``item``, ``retries`` (with a retryStrategy only), and the
  expression ``{{=len(jsonpath(workflow.parameters['X'], '$'))}}``.
* ``spec.onExit``: run after the DAG with ``workflow.status`` set.
* Scheduling-only fields, which mean nothing on one machine and are checked for shape only:
  image, imagePullPolicy, resources, nodeSelector, tolerations, serviceAccountName, labels,
  annotations, template metadata, ttlStrategy, podGC, workflowMetadata.

Each pod is a local process started the way a container starts: ``command + args`` with exactly
the template's environment (plus PATH to this Python), in a private mount namespace whose
``/tmp`` is a fresh tmpfs (``unshare``), so tasks that run at once never share a file (the
checkout and this Python stay visible when they lie under /tmp).
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any


class Unsupported(AssertionError):
    """The document holds something this harness does not interpret."""


SCRATCH = Path.home() / ".cache" / "argosy-harness"
"""Where pods copy their output parameters: outside /tmp, which each pod replaces."""
_TAG = re.compile(r"\{\{(.*?)\}\}")
_LIST_LENGTH = re.compile(r"^=len\(jsonpath\(workflow\.parameters\['([A-Za-z0-9_-]+)'\], '\$'\)\)$")
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(s|m|h)?$")
_DURATION_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600}
_POD_GC = {"OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"}
_TASK_FIELDS = {"name", "template", "depends", "arguments", "withSequence", "withParam"}
_TEMPLATE_FIELDS = {
    "name", "container", "inputs", "outputs", "metadata", "retryStrategy",
    "activeDeadlineSeconds", "nodeSelector", "tolerations",
}  # fmt: skip
_CONTAINER_FIELDS = {"image", "imagePullPolicy", "command", "args", "env", "resources"}


@dataclass
class Attempt:
    """One pod: what ran, with what environment, and how it ended."""

    task: str
    template: str
    item: str | None
    attempt: int
    argv: list[str]
    env: dict[str, str]
    returncode: int
    stderr: str
    timed_out: bool = False


@dataclass
class TaskResult:
    """A DAG task after the run: its phase and, for unexpanded tasks, its output parameters."""

    name: str
    phase: str
    """``Succeeded``, ``Failed`` or ``Omitted`` (a dependency did not succeed, or fail fast)."""
    items: int = 1
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class WorkflowResult:
    name: str
    phase: str
    tasks: dict[str, TaskResult]
    attempts: list[Attempt]
    exit_phase: str | None = None


def _take(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise Unsupported(f"{where}: expected an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise Unsupported(f"{where}: fields this harness does not interpret: {', '.join(unknown)}")
    return obj


def _seconds(text: Any, where: str) -> float:
    match = _DURATION.match(str(text))
    if match is None:
        raise Unsupported(f"{where}: duration {text!r} is not N, Ns, Nm or Nh")
    return float(match[1]) * _DURATION_UNITS[match[2]]


class ArgoInterpreter:
    """Run one Workflow document; `run` returns what happened."""

    def __init__(
        self,
        document: dict[str, Any],
        *,
        secrets: Mapping[tuple[str, str], str] | None = None,
        parameters: Mapping[str, str] | None = None,
        workdir: Path = Path("/"),
        max_pods: int = 4,
        backoff_scale: float = 1.0,
    ) -> None:
        self.secrets = dict(secrets or {})
        self.workdir = workdir
        self.backoff_scale = backoff_scale
        """Multiplies every retry wait (tests shorten Argo's waits; the order stays Argo's)."""
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        _take(document, {"apiVersion", "kind", "metadata", "spec"}, "workflow")
        if (
            document.get("apiVersion") != "argoproj.io/v1alpha1"
            or document.get("kind") != "Workflow"
        ):
            raise Unsupported("only argoproj.io/v1alpha1 Workflow documents run here")
        metadata = _take(document["metadata"], {"name", "generateName", "namespace", "labels",
                                                "annotations"}, "metadata")  # fmt: skip
        self.name = metadata.get("name") or f"{metadata['generateName']}{uuid.uuid4().hex[:5]}"
        self.spec = _take(document["spec"], {
            "entrypoint", "onExit", "serviceAccountName", "templates", "arguments", "parallelism",
            "ttlStrategy", "podGC", "workflowMetadata", "templateDefaults",
        }, "spec")  # fmt: skip
        self._check_scheduling_fields()
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.defaults = self._template_defaults()
        self.parameters = self._workflow_parameters(parameters or {})
        parallelism = self.spec.get("parallelism")
        self._pods = threading.Semaphore(min(max_pods, parallelism) if parallelism else max_pods)

    # --- document checks ---------------------------------------------------------------------

    def _check_scheduling_fields(self) -> None:
        ttl = self.spec.get("ttlStrategy", {})
        _take(ttl, {"secondsAfterCompletion", "secondsAfterSuccess", "secondsAfterFailure"}, "ttl")
        pod_gc = _take(self.spec.get("podGC", {}), {"strategy"}, "podGC")
        if pod_gc and pod_gc["strategy"] not in _POD_GC:
            raise Unsupported(f"podGC strategy {pod_gc['strategy']!r}")
        meta = _take(
            self.spec.get("workflowMetadata", {}), {"labels", "labelsFrom"}, "workflowMetadata"
        )
        for key, source in meta.get("labelsFrom", {}).items():
            if _take(source, {"expression"}, f"labelsFrom {key}")["expression"] != "workflow.name":
                raise Unsupported(f"labelsFrom {key}: only the expression workflow.name")

    def _template_defaults(self) -> dict[str, Any]:
        defaults = _take(self.spec.get("templateDefaults", {}), {"container"}, "templateDefaults")
        container = defaults.get("container", {})
        return _take(container, {"image", "env"}, "templateDefaults.container")

    def _workflow_parameters(self, given: Mapping[str, str]) -> dict[str, str]:
        arguments = _take(self.spec.get("arguments", {}), {"parameters"}, "spec.arguments")
        values = {}
        for parameter in arguments.get("parameters", []):
            _take(parameter, {"name", "value"}, "workflow parameter")
            name = parameter["name"]
            if name in given:
                values[name] = given[name]
            elif "value" in parameter:
                values[name] = parameter["value"]
            else:
                raise AssertionError(f"workflow parameter {name!r} has no value and none was given")
        unknown = set(given) - set(values)
        if unknown:
            raise AssertionError(f"parameters not declared by the workflow: {sorted(unknown)}")
        return values

    # --- substitution ------------------------------------------------------------------------

    def substitute(self, text: str, scope: Mapping[str, str]) -> str:
        """Argo's template tags in ``text``, replaced; an unknown or unresolvable tag fails."""

        def replace(match: re.Match[str]) -> str:
            inner = match[1]
            if inner.startswith("="):
                length = _LIST_LENGTH.match(inner)
                if length is None:
                    raise Unsupported(f"expression tag {match[0]!r}")
                key = f"workflow.parameters.{length[1]}"
                if key not in scope:
                    raise AssertionError(f"failed to resolve {match[0]}")
                value = json.loads(scope[key])
                if not isinstance(value, list):
                    raise AssertionError(
                        f"{match[0]}: jsonpath '$' of {scope[key]!r} is not a list"
                    )
                return str(len(value))
            key = inner.strip()
            if key not in scope:
                raise AssertionError(f"failed to resolve {match[0]} (Argo rejects this workflow)")
            return scope[key]

        return _TAG.sub(replace, text)

    def _global_scope(self) -> dict[str, str]:
        scope = {"workflow.name": self.name}
        scope.update({f"workflow.parameters.{k}": v for k, v in self.parameters.items()})
        return scope

    # --- running -----------------------------------------------------------------------------

    def run(self) -> WorkflowResult:
        entry = self.templates[self.spec["entrypoint"]]
        tasks = self._run_dag(entry)
        phase = "Succeeded" if all(t.phase == "Succeeded" for t in tasks.values()) else "Failed"
        exit_phase = None
        if "onExit" in self.spec:
            scope = self._global_scope() | {"workflow.status": phase}
            exit_phase, _ = self._run_container("onExit", self.templates[self.spec["onExit"]],
                                                {}, None, scope)  # fmt: skip
        return WorkflowResult(self.name, phase, tasks, self.attempts, exit_phase)

    def _run_dag(self, template: dict[str, Any]) -> dict[str, TaskResult]:
        _take(template, {"name", "dag"}, f"template {template['name']}")
        dag = _take(template["dag"], {"tasks"}, "dag")
        tasks = {t["name"]: _take(t, _TASK_FIELDS, f"task {t.get('name')}") for t in dag["tasks"]}
        needs = {name: self._depends(task) for name, task in tasks.items()}
        for name, deps in needs.items():
            if not deps <= set(tasks):
                raise AssertionError(f"task {name!r} depends on unknown tasks {deps - set(tasks)}")
        results: dict[str, TaskResult] = {}
        running: dict[Future[tuple[str, dict[str, str]]], str] = {}
        items_left: dict[str, list[Future[tuple[str, dict[str, str]]]]] = {}
        failed = False
        with ThreadPoolExecutor(max_workers=32) as pool:
            while len(results) < len(tasks):
                for name, task in tasks.items():
                    if name in results or name in items_left or not needs[name] <= set(results):
                        continue
                    if failed or any(results[d].phase != "Succeeded" for d in needs[name]):
                        results[name] = TaskResult(name, "Omitted", items=0)
                        continue
                    scope = self._task_scope(name, needs, results)
                    futures = [
                        pool.submit(self._run_item, name, task, item, scope)
                        for item in self._items(task, scope)
                    ]
                    items_left[name] = futures
                    running.update({future: name for future in futures})
                    if not futures:  # a zero-wide fan-out: nothing to run, and that is a success
                        results[name] = TaskResult(name, "Succeeded", items=0)
                        del items_left[name]
                if len(results) == len(tasks):
                    break
                if not running:
                    raise AssertionError("the DAG is stuck: a dependency cycle or unknown task")
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    del running[future]
                for name in [
                    n for n, futures in items_left.items() if all(f.done() for f in futures)
                ]:
                    outcomes = [f.result() for f in items_left.pop(name)]
                    ok = all(phase == "Succeeded" for phase, _ in outcomes)
                    expanded = "withSequence" in tasks[name] or "withParam" in tasks[name]
                    outputs = {} if expanded else outcomes[0][1]
                    results[name] = TaskResult(name, "Succeeded" if ok else "Failed",
                                               items=len(outcomes), outputs=outputs)  # fmt: skip
                    failed = failed or not ok
        return results

    def _depends(self, task: dict[str, Any]) -> set[str]:
        depends = task.get("depends")
        if depends is None:
            return set()
        names = [part.strip() for part in depends.split("&&")]
        if not all(re.fullmatch(r"[a-z0-9][-a-z0-9]*", name) for name in names):
            raise Unsupported(f"depends {depends!r}: only 'a && b' of task names is interpreted")
        return set(names)

    def _task_scope(
        self, name: str, needs: dict[str, set[str]], results: dict[str, TaskResult]
    ) -> dict[str, str]:
        ancestors: set[str] = set()
        pending = list(needs[name])
        while pending:
            current = pending.pop()
            if current not in ancestors:
                ancestors.add(current)
                pending.extend(needs[current])
        scope = self._global_scope()
        for ancestor in ancestors:
            for key, value in results[ancestor].outputs.items():
                scope[f"tasks.{ancestor}.outputs.parameters.{key}"] = value
        return scope

    def _items(self, task: dict[str, Any], scope: dict[str, str]) -> list[str | None]:
        if "withSequence" in task and "withParam" in task:
            raise AssertionError(f"task {task['name']}: withSequence and withParam together")
        if "withSequence" in task:
            sequence = _take(task["withSequence"], {"count"}, "withSequence")
            count = int(self.substitute(str(sequence["count"]), scope))
            return [str(i) for i in range(count)]
        if "withParam" in task:
            values = json.loads(self.substitute(task["withParam"], scope))
            if not isinstance(values, list):
                raise AssertionError(f"withParam of {task['name']} is not a JSON list")
            return [json.dumps(v) if not isinstance(v, str) else v for v in values]
        return [None]

    def _run_item(
        self, name: str, task: dict[str, Any], item: str | None, scope: dict[str, str]
    ) -> tuple[str, dict[str, str]]:
        item_scope = scope if item is None else scope | {"item": item}
        arguments = _take(task.get("arguments", {}), {"parameters"}, f"task {name} arguments")
        inputs = {}
        for parameter in arguments.get("parameters", []):
            _take(parameter, {"name", "value"}, f"task {name} argument")
            inputs[parameter["name"]] = self.substitute(parameter["value"], item_scope)
        template = self.templates.get(task["template"])
        if template is None:
            raise AssertionError(f"task {name} names unknown template {task['template']!r}")
        return self._run_container(name, template, inputs, item, self._global_scope())

    def _run_container(
        self,
        task: str,
        template: dict[str, Any],
        inputs: dict[str, str],
        item: str | None,
        scope: dict[str, str],
    ) -> tuple[str, dict[str, str]]:
        where = f"template {template['name']}"
        _take(template, _TEMPLATE_FIELDS, where)
        container = self._merged_container(template, where)
        declared = [p["name"] for p in _take(template.get("inputs", {}), {"parameters"}, where)
                    .get("parameters", [])]  # fmt: skip
        if sorted(declared) != sorted(inputs):
            raise AssertionError(f"{where}: inputs {sorted(declared)} given {sorted(inputs)}")
        scope = scope | {f"inputs.parameters.{k}": v for k, v in inputs.items()}
        self._check_metadata(template, scope, where)
        outputs = self._outputs(template, where)
        retry = self._retry(template, where)
        deadline = template.get("activeDeadlineSeconds")
        for attempt in range(retry["limit"] + 1):
            if attempt:
                time.sleep(self._backoff(retry, attempt) * self.backoff_scale)
            attempt_scope = scope | ({"retries": str(attempt)} if retry["present"] else {})
            argv = [
                self.substitute(a, attempt_scope)
                for a in container["command"] + container.get("args", [])
            ]
            env = {variable["name"]: self._env_value(variable, attempt_scope, where)
                   for variable in container.get("env", [])}  # fmt: skip
            with self._pods:
                returncode, values, stderr, timed_out = self._exec(argv, env, outputs, deadline)
            with self._lock:
                self.attempts.append(Attempt(task, template["name"], item, attempt, argv, env,
                                             returncode, stderr, timed_out))  # fmt: skip
            if returncode == 0:
                return "Succeeded", values
        return "Failed", {}

    def _merged_container(self, template: dict[str, Any], where: str) -> dict[str, Any]:
        container = _take(template.get("container"), _CONTAINER_FIELDS, where)
        if not container.get("command"):
            raise AssertionError(
                f"{where}: no command (images loaded into kind have no entrypoint)"
            )
        if container.get("imagePullPolicy", "IfNotPresent") not in {
            "IfNotPresent",
            "Always",
            "Never",
        }:
            raise Unsupported(f"{where}: imagePullPolicy {container['imagePullPolicy']!r}")
        resources = _take(container.get("resources", {}), {"requests", "limits"}, where)
        for kind in resources.values():
            for resource in kind:
                if resource not in {"cpu", "memory"} and not resource.endswith("/gpu"):
                    raise Unsupported(f"{where}: resource {resource!r}")
        env = {v["name"]: v for v in self.defaults.get("env", [])}
        env.update({v["name"]: v for v in container.get("env", [])})
        return {**self.defaults, **container, "env": list(env.values())}

    def _check_metadata(self, template: dict[str, Any], scope: dict[str, str], where: str) -> None:
        metadata = _take(template.get("metadata", {}), {"labels", "annotations"}, where)
        for value in metadata.get("labels", {}).values():
            self.substitute(value, scope)  # Argo substitutes pod labels too: they must resolve
        for toleration in template.get("tolerations", []):
            _take(toleration, {"key", "operator", "value", "effect", "tolerationSeconds"}, where)

    def _outputs(self, template: dict[str, Any], where: str) -> dict[str, str]:
        outputs = _take(template.get("outputs", {}), {"parameters"}, where)
        paths = {}
        for parameter in outputs.get("parameters", []):
            _take(parameter, {"name", "valueFrom"}, where)
            paths[parameter["name"]] = _take(parameter["valueFrom"], {"path"}, where)["path"]
        return paths

    def _retry(self, template: dict[str, Any], where: str) -> dict[str, Any]:
        strategy = template.get("retryStrategy")
        if strategy is None:
            return {"present": False, "limit": 0}
        _take(strategy, {"limit", "retryPolicy", "backoff"}, where)
        if strategy.get("retryPolicy") != "Always":
            raise Unsupported(f"{where}: retryPolicy {strategy.get('retryPolicy')!r}")
        backoff = _take(strategy.get("backoff", {}), {"duration", "factor", "cap"}, where)
        return {
            "present": True,
            "limit": int(strategy["limit"]),
            "duration": _seconds(backoff.get("duration", "0"), where),
            "factor": float(backoff.get("factor", 1)),
            "cap": _seconds(backoff["cap"], where) if "cap" in backoff else math.inf,
        }

    def _backoff(self, retry: dict[str, Any], attempt: int) -> float:
        return min(retry["duration"] * retry["factor"] ** (attempt - 1), retry["cap"])

    def _env_value(self, variable: dict[str, Any], scope: dict[str, str], where: str) -> str:
        _take(variable, {"name", "value", "valueFrom"}, where)
        if "value" in variable:
            return self.substitute(str(variable["value"]), scope)
        source = _take(variable["valueFrom"], {"secretKeyRef"}, where)["secretKeyRef"]
        _take(source, {"name", "key"}, where)
        key = (source["name"], source["key"])
        if key not in self.secrets:
            raise AssertionError(f"{where}: Secret {key[0]!r} key {key[1]!r} does not exist")
        return self.secrets[key]

    def _exec(
        self, argv: list[str], env: dict[str, str], outputs: dict[str, str], deadline: int | None
    ) -> tuple[int, dict[str, str], str, bool]:
        """Run one pod: a fresh /tmp, the template's env only; read its output parameters."""
        SCRATCH.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="pod-", dir=SCRATCH) as collect:
            copy = "; ".join(
                f"if [ -f {shlex.quote(path)} ]; then cp {shlex.quote(path)} "
                f"{shlex.quote(str(Path(collect) / name))}; else rc=98; fi"
                for name, path in outputs.items()
            )
            fresh_tmp = _fresh_tmp_script()
            script = f'{fresh_tmp}; "$@"; rc=$?; {copy or ":"}; exit $rc'
            if not outputs:
                script = f'{fresh_tmp}; exec "$@"'
            wrapped = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "pod"]
            pod_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp"} | env
            process = subprocess.Popen(
                wrapped + argv, env=pod_env, cwd=self.workdir, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True, start_new_session=True,
            )  # fmt: skip
            timed_out = False
            try:
                _, stderr = process.communicate(timeout=deadline)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                _, stderr = process.communicate()
                timed_out = True
            returncode = 124 if timed_out else process.returncode
            values = {
                name: (Path(collect) / name).read_text().strip()
                for name in outputs
                if (Path(collect) / name).is_file()
            }
            return returncode, values, stderr, timed_out


def _fresh_tmp_script() -> str:
    """Shell that gives a pod an empty /tmp, keeping this Python and the checkout visible.

    When the checkout or the virtual environment lies under /tmp (a CI clone may), their folders
    are bound back into the pod's fresh /tmp from a view of the host's /tmp kept outside it.
    """
    host_tmp = SCRATCH / "host-tmp"
    host_tmp.mkdir(parents=True, exist_ok=True)
    tmp = Path("/tmp").resolve()
    needed = {Path(sys.prefix).resolve(), Path(__file__).resolve().parents[2]}
    kept = sorted(path for path in needed if path.is_relative_to(tmp))
    steps = [f"mount --bind /tmp {shlex.quote(str(host_tmp))}"] if kept else []
    steps.append("mount -t tmpfs tmpfs /tmp")
    for path in kept:
        inside = shlex.quote(str(path))
        outside = shlex.quote(str(host_tmp / path.relative_to(tmp)))
        steps.append(f"mkdir -p {inside} && mount --bind {outside} {inside}")
    return " && ".join(steps) + " || exit 97"


def run_workflow(document: dict[str, Any], **options: Any) -> WorkflowResult:
    """Interpret ``document`` (see `ArgoInterpreter` for the options)."""
    return ArgoInterpreter(document, **options).run()


@cache
def unshare_works() -> bool:
    """Whether this machine lets us give each pod its own mount namespace."""
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False)
    return probe.returncode == 0


__all__ = ["ArgoInterpreter", "Attempt", "TaskResult", "Unsupported", "WorkflowResult",
           "run_workflow", "unshare_works"]  # fmt: skip
