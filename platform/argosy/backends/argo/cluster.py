"""Where a compiled workflow runs, and the environment that lets its pods reach Argosy's services.

`ClusterConfig` holds the cluster names the Helm chart creates (namespace, service account,
Secrets, the metadata Service and MinIO), with the defaults of
``helm install argosy charts/argosy -n argosy``, and the GPU profiles. `pod_env` is every pod's
environment: service addresses as values, credentials from the Secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hera.workflows import Env, SecretEnv

from argosy.backends.argo.gpu import GpuProfiles


@dataclass(frozen=True, kw_only=True)
class ClusterConfig:
    """Where a compiled workflow runs and how its pods reach the store and metadata service.

    The defaults are the names `helm install argosy charts/argosy -n argosy` creates.
    """

    namespace: str = "argosy"
    service_account: str = "argosy-workflow"
    metadata_url: str | None = None
    """Defaults to ``http://argosy-metadata.<namespace>.svc:8000``."""
    s3_endpoint: str | None = None
    """Defaults to ``argosy-minio.<namespace>.svc:9000``."""
    s3_bucket: str = "argosy"
    s3_secure: bool = False
    s3_secret: str = "argosy-s3"
    """Secret with keys ``access-key`` and ``secret-key``."""
    token_secret: str = "argosy-metadata-token"
    """Secret with key ``token``."""
    gpu_profiles: GpuProfiles = field(default_factory=GpuProfiles)
    ttl_after_success_seconds: int = 24 * 3600
    ttl_after_failure_seconds: int = 7 * 24 * 3600

    @property
    def resolved_metadata_url(self) -> str:
        return self.metadata_url or f"http://argosy-metadata.{self.namespace}.svc:8000"

    @property
    def resolved_s3_endpoint(self) -> str:
        return self.s3_endpoint or f"argosy-minio.{self.namespace}.svc:9000"


def pod_env(cluster: ClusterConfig) -> list[Env | SecretEnv]:
    """How a pod reaches the metadata service and the store; credentials from Secrets."""
    return [
        Env(name="ARGOSY_METADATA_URL", value=cluster.resolved_metadata_url),
        SecretEnv(name="ARGOSY_TOKEN", secret_name=cluster.token_secret, secret_key="token"),
        Env(name="ARGOSY_S3_ENDPOINT", value=cluster.resolved_s3_endpoint),
        Env(name="ARGOSY_S3_BUCKET", value=cluster.s3_bucket),
        Env(name="ARGOSY_S3_SECURE", value="true" if cluster.s3_secure else "false"),
        SecretEnv(
            name="ARGOSY_S3_ACCESS_KEY", secret_name=cluster.s3_secret, secret_key="access-key"
        ),
        SecretEnv(
            name="ARGOSY_S3_SECRET_KEY", secret_name=cluster.s3_secret, secret_key="secret-key"
        ),
        Env(name="ARGOSY_HOME", value="/tmp/argosy"),
    ]


__all__ = ["ClusterConfig", "pod_env"]
