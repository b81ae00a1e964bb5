"""The compiler, over IR built here: every document it writes must pass Argo's strict schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows import CronWorkflow, Workflow, WorkflowTemplate

from argosy import ir
from argosy.backends.argo import compiler
from argosy.backends.argo.cluster import ClusterConfig
from argosy.backends.argo.compiler import compile_pipeline, render_yaml
from argosy.backends.argo.gpu import load_gpu_profiles
from argosy.errors import CompileError
from tests.backends.argo.argo_schema import assert_valid

IMAGE = "argosy/base:0123abcd"
PROFILES = """
gpuProfiles:
  a100:
    resource: nvidia.com/gpu
    nodeSelector: {nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}
    tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
"""


def _step(name: str, inputs: dict[str, ir.Input] | None = None, **fields: Any) -> ir.Step:
    return ir.Step(
        name=name, function=f"flow:{name}", code_digest="0" * 64, inputs=inputs or {}, **fields
    )


def _sweep(**pipeline_fields: Any) -> ir.Pipeline:
    """load -> (fit mapped over ks, embed on a GPU) -> best: branches, fan-out, fan-in, join."""
    return ir.Pipeline(
        name="sweep_demo",
        description="A sweep.",
        parameters=[
            ir.Parameter(name="n_docs", default=100),
            ir.Parameter(name="ks", default=[2, 4]),
        ],
        steps=[
            _step("load", {"n": ir.ParameterInput(name="n_docs")}),
            _step(
                "fit",
                {"X": ir.OutputInput(step="load"), "k": ir.ParameterInput(name="ks")},
                mapped="k",
                resources=ir.Resources(cpu=2, memory="4Gi"),
                retry=ir.Retry(
                    limit=2, backoff_seconds=5, backoff_factor=2, max_backoff_seconds=60
                ),
                timeout_seconds=600,
            ),
            _step(
                "embed",
                {"X": ir.OutputInput(step="load")},
                resources=ir.Resources(cpu=0.5, gpu=1, gpu_type="a100"),
            ),
            _step("best", {"fits": ir.FanInInput(step="fit"), "E": ir.OutputInput(step="embed")}),
        ],
        output="best",
        **pipeline_fields,
    )


def _dynamic(width_source: ir.Input | None = None) -> ir.Pipeline:
    """numbers -> square mapped over its output -> again mapped over the fan-in -> total."""
    return ir.Pipeline(
        name="dynamic",
        parameters=[ir.Parameter(name="width", default=10)],
        steps=[
            _step("numbers", {"width": ir.ParameterInput(name="width")}),
            _step("square", {"x": width_source or ir.OutputInput(step="numbers")}, mapped="x"),
            _step("again", {"x": ir.FanInInput(step="square")}, mapped="x"),
            _step("total", {"xs": ir.FanInInput(step="again")}),
        ],
    )


def _profiles(tmp_path: Path) -> ClusterConfig:
    path = tmp_path / "profiles.yaml"
    path.write_text(PROFILES)
    return ClusterConfig(gpu_profiles=load_gpu_profiles(path))


def _doc(pipeline: ir.Pipeline, **options: Any) -> dict[str, Any]:
    options.setdefault("image", IMAGE)
    options.setdefault("ref", "flow.py")
    workflow = compile_pipeline(pipeline, **options)
    document = workflow.to_dict()
    assert_valid(document)
    return document


def _templates(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = document["spec"].get("workflowSpec", document["spec"])
    return {template["name"]: template for template in spec["templates"]}


def _tasks(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    dag = _templates(document)["main"]["dag"]
    return {task["name"]: task for task in dag["tasks"]}


def test_one_container_template_per_step_running_the_entrypoint(tmp_path: Path) -> None:
    document = _doc(_sweep(), cluster=_profiles(tmp_path))
    templates = _templates(document)
    assert set(templates) == {"load", "fit", "embed", "best", "main", "finish-run"}
    for name in ("load", "fit", "embed", "best"):
        container = templates[name]["container"]
        assert container["command"] == ["python", "-m", "argosy", "task"]
        assert container["image"] == IMAGE
        assert container["imagePullPolicy"] == "IfNotPresent"
    args = templates["fit"]["container"]["args"]
    assert args == [
        "--pipeline", "flow.py", "--step", "fit", "--run-id", "{{workflow.name}}",
        "--index", "{{inputs.parameters.index}}", "--attempt", "{{retries}}",
        "--param", "n_docs={{workflow.parameters.n_docs}}",
        "--param", "ks={{workflow.parameters.ks}}",
        "--project", "{{workflow.annotations.argosy.io/project}}",
        "--owner", "{{workflow.annotations.argosy.io/owner}}",
        "--tags", "{{workflow.annotations.argosy.io/tags}}",
        "--outputs-dir", "/tmp/argosy-out",
    ]  # fmt: skip
    assert "--attempt" not in templates["load"]["container"]["args"]  # {{retries}} needs retries
    assert "--index" not in templates["load"]["container"]["args"]


def test_dependencies_follow_the_data_flow_and_branches_are_parallel(tmp_path: Path) -> None:
    tasks = _tasks(_doc(_sweep(), cluster=_profiles(tmp_path)))
    assert "depends" not in tasks["load"]
    assert tasks["fit"]["depends"] == "load"
    assert tasks["embed"]["depends"] == "load"
    assert tasks["best"]["depends"] == "fit && embed"


def test_a_fan_out_over_a_parameter_counts_the_list_with_an_argo_expression(
    tmp_path: Path,
) -> None:
    document = _doc(_sweep(), cluster=_profiles(tmp_path))
    fit = _tasks(document)["fit"]
    assert fit["withSequence"] == {"count": "{{=len(jsonpath(workflow.parameters['ks'], '$'))}}"}
    assert fit["arguments"]["parameters"] == [{"name": "index", "value": "{{item}}"}]
    assert _templates(document)["fit"]["inputs"]["parameters"] == [{"name": "index"}]
    parameters = document["spec"]["arguments"]["parameters"]
    assert parameters == [{"name": "n_docs", "value": "100"}, {"name": "ks", "value": "[2, 4]"}]


def test_a_dynamic_fan_out_counts_the_producers_length_output() -> None:
    document = _doc(_dynamic())
    templates, tasks = _templates(document), _tasks(document)
    assert templates["numbers"]["outputs"]["parameters"] == [
        {"name": "length", "valueFrom": {"path": "/tmp/argosy-out/length"}}
    ]
    assert "outputs" not in templates["square"]  # nobody maps over square's own output
    count = "{{tasks.numbers.outputs.parameters.length}}"
    assert tasks["square"]["withSequence"] == {"count": count}
    assert tasks["again"]["withSequence"] == {"count": count}  # as wide as the fan-in it maps
    assert tasks["total"]["depends"] == "again"
    assert "withSequence" not in tasks["total"]


def test_a_literal_list_fan_out_is_counted_at_compile_time() -> None:
    document = _doc(_dynamic(ir.LiteralInput(value=list(range(7)))))
    assert _tasks(document)["square"]["withSequence"] == {"count": "7"}
    assert "7" not in json.dumps(_templates(document)["square"])  # items stay out of Argo


def test_the_manifest_does_not_grow_with_the_fan_out_width() -> None:
    ten, wide = (
        render_yaml(
            compile_pipeline(
                _dynamic(ir.LiteralInput(value=list(range(width)))), ref="flow.py", image=IMAGE
            )
        )
        for width in (10, 100_000)
    )
    # only the count's digits differ, in each of the two fan-outs (square, and again over it)
    assert len(wide) - len(ten) == 2 * (len("100000") - len("10"))


def test_resources_gpu_profile_retries_timeout_and_parallelism(tmp_path: Path) -> None:
    document = _doc(_sweep(max_parallel=3), cluster=_profiles(tmp_path))
    templates = _templates(document)
    fit = templates["fit"]
    assert fit["container"]["resources"] == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    assert fit["retryStrategy"] == {
        "limit": 2,
        "retryPolicy": "Always",
        "backoff": {"duration": "5s", "factor": 2, "cap": "60s"},
    }
    assert fit["activeDeadlineSeconds"] == 600
    embed = templates["embed"]
    assert embed["container"]["resources"] == {
        "requests": {"cpu": "500m", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "500m", "nvidia.com/gpu": "1"},
    }
    assert embed["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}
    assert embed["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert "nodeSelector" not in templates["load"]
    assert document["spec"]["parallelism"] == 3


@pytest.mark.parametrize("memory", ["650M", "1.5Gi", "700000000", "2e9"])
def test_memory_in_any_kubernetes_unit_compiles_as_written(memory: str) -> None:
    pipeline = ir.Pipeline(
        name="p", steps=[_step("big", resources=ir.Resources(cpu=0.25, memory=memory))]
    )
    container = _templates(_doc(pipeline))["big"]["container"]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": memory},
        "limits": {"cpu": "250m", "memory": memory},
    }


def test_workflow_settings_labels_and_environment(tmp_path: Path) -> None:
    pipeline = _sweep()
    document = _doc(pipeline, cluster=_profiles(tmp_path), run_id="sweep-demo-abc12")
    metadata, spec = document["metadata"], document["spec"]
    assert metadata["name"] == "sweep-demo-abc12"
    assert metadata["namespace"] == "argosy"
    assert metadata["labels"] == {
        "argosy.io/pipeline": "sweep_demo",
        "argosy.io/version": pipeline.digest()[:32],
        "argosy.io/run-id": "sweep-demo-abc12",
        "argosy.io/owner": "production",  # compiled without an owner: a deployment
    }
    assert metadata["annotations"]["workflows.argoproj.io/title"] == "sweep_demo"
    assert metadata["annotations"]["workflows.argoproj.io/description"] == "A sweep."
    assert spec["serviceAccountName"] == "argosy-workflow"
    assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0
    assert spec["podGC"] == {"strategy": "OnWorkflowSuccess"}
    assert spec["onExit"] == "finish-run"
    assert spec["workflowMetadata"]["labelsFrom"] == {
        "argosy.io/run-id": {"expression": "workflow.name"}
    }
    env = {variable["name"]: variable for variable in spec["templateDefaults"]["container"]["env"]}
    assert env["ARGOSY_METADATA_URL"]["value"] == "http://argosy-metadata.argosy.svc:8000"
    assert env["ARGOSY_S3_ENDPOINT"]["value"] == "argosy-minio.argosy.svc:9000"
    assert env["ARGOSY_S3_SECURE"]["value"] == "false"
    assert env["ARGOSY_S3_ACCESS_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "argosy-s3", "key": "access-key"}
    }
    assert env["ARGOSY_TOKEN"]["valueFrom"] == {
        "secretKeyRef": {"name": "argosy-metadata-token", "key": "token"}
    }
    fit_labels = _templates(document)["fit"]["metadata"]["labels"]
    assert fit_labels == {"argosy.io/step": "fit", "argosy.io/index": "{{inputs.parameters.index}}"}


def test_generated_name_without_a_run_id_and_code_package_argument() -> None:
    document = _doc(_dynamic(), code_package="ab" * 32, ref="flow:dynamic")
    assert document["metadata"]["generateName"] == "dynamic-"
    args = _templates(document)["numbers"]["container"]["args"]
    assert args[:2] == ["--pipeline", "flow:dynamic"]
    assert args[-2:] == ["--code-package", "ab" * 32]


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("workflow", Workflow), ("template", WorkflowTemplate), ("cron", CronWorkflow)],
)
def test_each_kind_is_valid_and_survives_a_hera_round_trip(
    kind: str, cls: type, tmp_path: Path
) -> None:
    schedule = "0 3 * * *" if kind == "cron" else None
    workflow = compile_pipeline(
        _sweep(),
        ref="flow.py",
        image=IMAGE,
        kind=kind,
        schedule=schedule,
        cluster=_profiles(tmp_path),
    )  # type: ignore[arg-type]
    text = render_yaml(workflow)
    assert_valid(yaml.safe_load(text))
    assert render_yaml(cls.from_yaml(text)) == text
    assert yaml.safe_load(cls.from_yaml(text).to_yaml()) == yaml.safe_load(text)
    if kind == "cron":
        assert yaml.safe_load(text)["spec"]["schedules"] == ["0 3 * * *"]


def test_a_step_named_like_the_dag_gets_a_distinct_dag_name() -> None:
    pipeline = ir.Pipeline(name="p", steps=[_step("main"), _step("finish_run")])
    document = _doc(pipeline)
    spec = document["spec"]
    assert spec["entrypoint"] == "main-x"
    assert spec["onExit"] == "finish-run-x"
    assert _templates(document)["main-x"]["dag"]["tasks"][0]["template"] == "main"


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "has no image"),
        ("argosy/base", "no pinned tag"),
        ("argosy/base:latest", "no pinned tag"),
    ],
)
def test_an_image_must_be_given_and_pinned(image: str | None, message: str) -> None:
    with pytest.raises(CompileError, match=message) as caught:
        compile_pipeline(_dynamic(), ref="flow.py", image=image)
    assert "'numbers'" in str(caught.value)


def test_an_image_by_digest_is_pinned() -> None:
    image = "registry.local/argosy/base@sha256:" + "c" * 64
    assert _templates(_doc(_dynamic(), image=image))["numbers"]["container"]["image"] == image


def test_an_unknown_gpu_profile_names_the_step_and_the_known_profiles(tmp_path: Path) -> None:
    pipeline = _sweep()
    with pytest.raises(CompileError, match=r"'embed'.*'a100'.*none") as caught:
        compile_pipeline(pipeline, ref="flow.py", image=IMAGE)
    assert "--gpu-profiles" in str(caught.value)
    path = tmp_path / "profiles.yaml"
    path.write_text("gpuProfiles: {h100: {}, t4: {}}")
    cluster = ClusterConfig(gpu_profiles=load_gpu_profiles(path))
    with pytest.raises(CompileError, match="known profiles: h100, t4"):
        compile_pipeline(pipeline, ref="flow.py", image=IMAGE, cluster=cluster)


def test_a_gpu_step_without_a_type_gets_the_default_profile(tmp_path: Path) -> None:
    untyped = ir.Pipeline(name="p", steps=[_step("embed", resources=ir.Resources(gpu=2))])
    assert "nodeSelector" not in _templates(_doc(untyped))["embed"]  # no profiles: plain GPUs
    path = tmp_path / "profiles.yaml"
    path.write_text(PROFILES.replace("a100:", "default:"))
    cluster = ClusterConfig(gpu_profiles=load_gpu_profiles(path))
    embed = _templates(_doc(untyped, cluster=cluster))["embed"]
    assert embed["container"]["resources"]["limits"] == {"cpu": "1", "nvidia.com/gpu": "2"}
    assert embed["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}


def test_a_malformed_profiles_file_is_a_compile_error(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text("gpuProfiles: {a100: {nodeSelektor: {}}}")
    with pytest.raises(CompileError, match="not of the shape"):
        load_gpu_profiles(path)
    with pytest.raises(CompileError, match="cannot read"):
        load_gpu_profiles(tmp_path / "missing.yaml")


def _chain(length: int) -> ir.Pipeline:
    steps = [_step("s0")] + [
        _step(f"s{i}", {"x": ir.OutputInput(step=f"s{i - 1}")}) for i in range(1, length)
    ]
    return ir.Pipeline(name="chain", steps=steps)


def test_a_thousand_steps_fit_under_the_size_limit() -> None:
    document = _doc(_chain(1000))
    assert len(json.dumps(document)) < compiler.MAX_MANIFEST_BYTES


def test_a_workflow_over_the_size_limit_is_a_compile_error() -> None:
    with pytest.raises(CompileError, match=r"over the 1,000,000 .*split the pipeline"):
        compile_pipeline(_chain(2500), ref="flow.py", image=IMAGE)


def test_a_schedule_needs_the_cron_kind_and_cron_needs_a_schedule() -> None:
    with pytest.raises(CompileError, match="only for --kind cron"):
        compile_pipeline(
            _dynamic(), ref="flow.py", image=IMAGE, kind="workflow", schedule="* * * * *"
        )
    with pytest.raises(CompileError, match="needs a schedule"):
        compile_pipeline(_dynamic(), ref="flow.py", image=IMAGE, kind="cron")


def test_a_required_parameter_has_no_value_and_given_values_override() -> None:
    pipeline = ir.Pipeline(
        name="p",
        parameters=[ir.Parameter(name="a", required=True), ir.Parameter(name="b", default="x")],
        steps=[_step("s", {"a": ir.ParameterInput(name="a")})],
    )
    assert _doc(pipeline)["spec"]["arguments"]["parameters"] == [
        {"name": "a"},
        {"name": "b", "value": "x"},
    ]
    given = _doc(pipeline, parameters={"a": [1, 2], "b": "y"})["spec"]["arguments"]["parameters"]
    assert given == [{"name": "a", "value": "[1, 2]"}, {"name": "b", "value": "y"}]


def test_ordering_edges_become_dag_dependencies_without_inputs() -> None:
    pipeline = ir.Pipeline(
        name="ordered",
        steps=[
            _step("gate"),
            _step("naps", {"x": ir.LiteralInput(value=[1, 2])}, mapped="x"),
            _step("last", {"x": ir.OutputInput(step="gate")}, after=["naps", "gate"]),
            _step("report", after=["last"]),
        ],
    )
    tasks = _tasks(_doc(pipeline))

    assert tasks["last"]["depends"] == "gate && naps"
    assert tasks["report"]["depends"] == "last"
    assert "depends" not in tasks["gate"]
    assert "arguments" not in tasks["report"]
    resumed = _tasks(_doc(pipeline, done={"gate": compiler.DoneStep(width=1)}))
    assert resumed["last"]["depends"] == "naps"
