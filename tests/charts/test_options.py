"""Each documented option does what charts/argosy/README.md says, and bad values fail early
with a message that says what to do (values.schema.json and the templates' checks)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.charts.chart import BY_NAME, CHART, CHARTS, TEST_TAG, find, has, helm, render


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _metadata_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = find(objects, "Deployment", "argosy-metadata")
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_defaults_run_everything_in_the_cluster() -> None:
    objects = render(BY_NAME["defaults"])
    for kind, name in [
        ("StatefulSet", "argosy-postgres"),
        ("StatefulSet", "argosy-minio"),
        ("Service", "argosy-metadata"),
        ("Service", "argosy-minio"),
        ("Secret", "argosy-s3"),
        ("Secret", "argosy-metadata-token"),
        ("Secret", "argosy-postgres"),
        ("ServiceAccount", "argosy-workflow"),
        ("ConfigMap", "artifact-repositories"),
        ("ConfigMap", "argosy-gpu-profiles"),
        ("Job", "argosy-create-bucket"),
        ("Pod", "argosy-test-platform"),
    ]:
        find(objects, kind, name)
    container = _metadata_container(objects)
    assert container["command"] == [
        *("python", "-m", "argosy", "server"),
        *("--host", "0.0.0.0", "--port", "8000", "--migrate"),
    ]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert _env(container)["ARGOSY_ANONYMOUS_READS"]["value"] == "false"
    assert container["image"] == f"argosy/base:{TEST_TAG}"


def test_generated_secrets_are_random_and_complete() -> None:
    first, second = (render(BY_NAME["defaults"], "--set", f"metadata.replicas={n}") for n in (1, 2))
    for name, keys in [
        ("argosy-s3", {"access-key", "secret-key"}),
        ("argosy-metadata-token", {"token"}),
        ("argosy-postgres", {"username", "password"}),
    ]:
        a, b = find(first, "Secret", name)["stringData"], find(second, "Secret", name)["stringData"]
        assert set(a) == keys
        for key in keys - {"username"}:
            assert len(a[key]) >= 20, f"{name} {key} is short"
            assert a[key] != b[key], f"{name} {key} is not random per install"


GIVEN_TOKEN = "tok-" + "1" * 32


def test_given_secret_values_are_used() -> None:
    objects = render(
        BY_NAME["defaults"],
        *("--set", f"metadata.adminToken={GIVEN_TOKEN}", "--set", "postgres.password=pw-456"),
    )
    assert find(objects, "Secret", "argosy-metadata-token")["stringData"] == {"token": GIVEN_TOKEN}
    assert find(objects, "Secret", "argosy-postgres")["stringData"]["password"] == "pw-456"


def test_a_short_admin_token_is_refused_by_the_values_schema() -> None:
    short = ("--set", "metadata.adminToken=tok-123")
    result = helm("template", "argosy", str(CHART), *BY_NAME["defaults"].args(), *short)
    assert result.returncode != 0
    assert "adminToken" in result.stderr


def test_external_database_replaces_postgres() -> None:
    objects = render(BY_NAME["external-database"])
    assert not has(objects, "StatefulSet", "argosy-postgres")
    assert not has(objects, "Secret", "argosy-postgres")
    url = find(objects, "Secret", "argosy-database")["stringData"]["url"]
    assert url.startswith("postgresql+psycopg://") and "db.example.com" in url
    ref = _env(_metadata_container(objects))["ARGOSY_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "argosy-database", "key": "url"}


def test_external_database_from_an_existing_secret() -> None:
    objects = render(BY_NAME["external-database-secret"])
    assert not has(objects, "Secret", "argosy-database")
    ref = _env(_metadata_container(objects))["ARGOSY_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref == {"name": "my-database", "key": "url"}


def test_external_s3_replaces_minio_everywhere() -> None:
    objects = render(BY_NAME["external-s3"])
    assert not has(objects, "StatefulSet", "argosy-minio")
    assert not has(objects, "Service", "argosy-minio")
    repository = yaml.safe_load(
        find(objects, "ConfigMap", "artifact-repositories")["data"]["default-v1"]
    )
    assert {k: repository["s3"][k] for k in ("endpoint", "bucket", "insecure", "region")} == {
        "endpoint": "s3.eu-west-1.amazonaws.com:443",
        "bucket": "team-artifacts",
        "insecure": False,
        "region": "eu-west-1",
    }
    job = find(objects, "Job", "argosy-create-bucket")
    env = _env(job["spec"]["template"]["spec"]["containers"][0])
    assert env["ARGOSY_S3_ENDPOINT"]["value"] == "s3.eu-west-1.amazonaws.com:443"
    assert env["ARGOSY_S3_SECURE"]["value"] == "true"
    assert env["ARGOSY_S3_REGION"]["value"] == "eu-west-1"
    assert find(objects, "Secret", "argosy-s3")["stringData"] == {
        "access-key": "AKIAEXAMPLE",
        "secret-key": "example-secret",
    }


def test_gpu_profiles_reach_the_configmap_in_the_compilers_format() -> None:
    from argosy.backends.argo.gpu import GpuProfiles

    objects = render(BY_NAME["gpu-profiles"])
    rendered = yaml.safe_load(
        find(objects, "ConfigMap", "argosy-gpu-profiles")["data"]["profiles.yaml"]
    )
    given = yaml.safe_load((CHARTS / "gpu-profiles-kind.yaml").read_text())
    assert rendered == given
    assert GpuProfiles.model_validate(rendered).gpu_profiles["a100"].resource == "nvidia.com/gpu"


def test_anonymous_reads_reach_the_metadata_service() -> None:
    env = _env(_metadata_container(render(BY_NAME["anonymous-reads"])))
    assert env["ARGOSY_ANONYMOUS_READS"]["value"] == "true"


def test_own_secrets_are_not_rendered_but_still_referenced() -> None:
    objects = render(BY_NAME["own-secrets"])
    assert not [o for o in objects if o["kind"] == "Secret"]
    env = _env(_metadata_container(objects))
    assert env["ARGOSY_ADMIN_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "argosy-metadata-token"


def test_every_pod_runs_as_non_root() -> None:
    for obj in render(BY_NAME["defaults"]):
        spec = {
            "Pod": lambda o: o["spec"],
            "Job": lambda o: o["spec"]["template"]["spec"],
            "Deployment": lambda o: o["spec"]["template"]["spec"],
            "StatefulSet": lambda o: o["spec"]["template"]["spec"],
        }.get(obj["kind"], lambda o: None)(obj)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["automountServiceAccountToken"] is False
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert container["resources"]["requests"], container["name"]


def test_the_defaults_pass_a_strict_lint_and_use_the_release_image() -> None:
    """As chart-testing lints: no values at all. The image is argosy/base at appVersion."""
    lint = helm("lint", "--strict", str(CHART))
    assert lint.returncode == 0, lint.stdout + lint.stderr
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    result = helm("template", "argosy", str(CHART), "--namespace", "argosy")
    assert result.returncode == 0, result.stderr
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    metadata = find(objects, "Deployment", "argosy-metadata")
    images = {c["image"] for c in metadata["spec"]["template"]["spec"]["containers"]}
    assert images == {f"argosy/base:{app_version}"}


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("image.tag=latest",), "/image/tag"),
        (("minio.enabled=false",), "s3.endpoint (host:port) is required"),
        (
            ("minio.enabled=false", "s3.endpoint=s3.example.com:443"),
            "s3.accessKey and s3.secretKey are required",
        ),
        (("postgres.enabled=false",), "externalDatabase.url (or externalDatabase.existingSecret)"),
        (("s3.endpoint=https://s3.example.com",), "/s3/endpoint"),
        (("gpuProfiles.a100.nodeSelektor.x=y",), "nodeSelektor"),
        (("metadata.service.type=Ingress",), "/metadata/service/type"),
        (("postgres.password=p@ss/word",), "/postgres/password"),
    ],
)
def test_bad_values_fail_with_a_message_that_says_what_to_do(
    sets: tuple[str, ...], message: str
) -> None:
    args = [arg for pair in (f"image.tag={TEST_TAG}", *sets) for arg in ("--set", pair)]
    result = helm("template", "argosy", str(CHART), "--namespace", "argosy", *args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
