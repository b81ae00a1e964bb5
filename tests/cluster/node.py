"""A single-node Kubernetes on this machine: control plane, containerd, kubelet, proxy and DNS.

`Node(state).start(binaries)` brings the parts up in dependency order, each waited for:
etcd, the API server, the controller manager and scheduler, containerd (CRI, CNI bridge), the
kubelet (cgroup v1 with the cgroupfs driver), kube-proxy (nftables) and CoreDNS, which serves
``cluster.local`` on the node address. The node carries the GPU profile's label and a taint and
advertises a fake ``nvidia.com/gpu`` capacity, so GPU scheduling is real while the device is not.
`Node.stop` takes everything down again, pods, mounts and network included.

Everything the node writes lives under ``state``: certificates, configuration, logs, containerd's
and the kubelet's roots.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import subprocess
import urllib.request
from pathlib import Path

import yaml

from tests.cluster import network, teardown
from tests.cluster.daemons import Daemons, StartupError, http_ok
from tests.cluster.pki import CertificateAuthority, Credential, service_account_key

API_PORT = 6443
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"
"""containerd's sandbox image: built here and imported before the first pod (never pulled)."""
GPU_LABEL = ("argosy.io/gpu-pool", "test")
GPU_TAINT = "nvidia.com/gpu=present:PreferNoSchedule"
"""PreferNoSchedule: the one node must still take the chart's pods, which tolerate nothing."""
FAKE_GPUS = 2
STOP_ORDER = (
    "workflow-controller",
    "coredns",
    "kube-proxy",
    "kubelet",
    "kube-scheduler",
    "kube-controller-manager",
    "kube-apiserver",
    "etcd",
)


class Node:
    """The cluster whose files live in ``state``."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.pki = state / "pki"
        self.daemons = Daemons(state)
        self.containerd_socket = state / "containerd" / "containerd.sock"

    @property
    def server(self) -> str:
        return f"https://{network.NODE_IP}:{API_PORT}"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.state / "admin.kubeconfig"

    # -- start ----------------------------------------------------------------------------

    def start(self, binaries: dict[str, Path]) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        network.set_up()
        self._write_credentials()
        self._start_etcd(binaries["etcd"])
        self._start_apiserver(binaries["kube-apiserver"])
        self._start_controllers(binaries)
        self._start_containerd()

    def start_node_agents(self, binaries: dict[str, Path]) -> None:
        """The kubelet, kube-proxy and CoreDNS: once containerd has the pause image."""
        self._start_kubelet(binaries["kubelet"])
        self._start_proxy(binaries["kube-proxy"])
        self._start_dns(binaries["coredns"])

    def _credential(self, name: str) -> Credential:
        return Credential(self.pki / f"{name}.crt", self.pki / f"{name}.key")

    def _write_credentials(self) -> None:
        ca = CertificateAuthority(self.pki)
        hosts = (
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            f"kubernetes.default.svc.{network.CLUSTER_DOMAIN}",
            "localhost",
            "127.0.0.1",
            network.NODE_IP,
            network.KUBERNETES_SERVICE_IP,
        )
        ca.issue("apiserver", "kube-apiserver", hosts=hosts, client=False)
        ca.issue(
            "kubelet-serving", f"system:node:{network.NODE_NAME}",
            hosts=(network.NODE_NAME, network.NODE_IP), client=False,
        )  # fmt: skip
        service_account_key(self.pki)
        identities = {
            "admin": ("kubernetes-admin", "system:masters"),
            "controller-manager": ("system:kube-controller-manager", None),
            "scheduler": ("system:kube-scheduler", None),
            "kubelet": (f"system:node:{network.NODE_NAME}", "system:nodes"),
            "proxy": ("system:kube-proxy", None),
        }
        for name, (user, group) in identities.items():
            credential = ca.issue(name, user, organization=group)
            ca.kubeconfig(self.state / f"{name}.kubeconfig", self.server, credential, user)

    def _start_etcd(self, etcd: Path) -> None:
        client = f"http://127.0.0.1:{ETCD_CLIENT_PORT}"
        peer = f"http://127.0.0.1:{ETCD_PEER_PORT}"
        self.daemons.start(
            "etcd",
            [
                etcd, "--name", "argosy", "--data-dir", self.state / "etcd",
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"argosy={peer}",
                "--listen-metrics-urls", "http://127.0.0.1:2381",
                "--unsafe-no-fsync",  # a throwaway test cluster: speed over durability
                "--log-level", "warn",
            ],
        )  # fmt: skip
        self.daemons.wait_until("etcd", lambda: http_ok(f"{client}/health"), 60)

    def _start_apiserver(self, apiserver: Path) -> None:
        pki = self.pki
        self.daemons.start(
            "kube-apiserver",
            [
                apiserver,
                f"--advertise-address={network.NODE_IP}",
                f"--bind-address={network.NODE_IP}",
                f"--secure-port={API_PORT}",
                f"--etcd-servers=http://127.0.0.1:{ETCD_CLIENT_PORT}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--tls-cert-file={self._credential('apiserver').cert}",
                f"--tls-private-key-file={self._credential('apiserver').key}",
                f"--kubelet-client-certificate={pki / 'admin.crt'}",
                f"--kubelet-client-key={pki / 'admin.key'}",
                f"--kubelet-certificate-authority={pki / 'ca.crt'}",
                "--kubelet-preferred-address-types=InternalIP",  # the node name is in no DNS
                f"--service-account-issuer=https://kubernetes.default.svc.{network.CLUSTER_DOMAIN}",
                f"--service-account-key-file={self.pki / 'sa.pub'}",
                f"--service-account-signing-key-file={self.pki / 'sa.key'}",
                f"--service-cluster-ip-range={network.SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                f"--cert-dir={pki}",
                "--profiling=false",
                "--v=1",
            ],
        )
        self.daemons.wait_until("kube-apiserver", self._api_ready, 120, "ready (/readyz)")

    def _api_ready(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        context.load_cert_chain(self.pki / "admin.crt", self.pki / "admin.key")
        with urllib.request.urlopen(f"{self.server}/readyz", context=context, timeout=5) as r:
            return r.status == 200

    def _start_controllers(self, binaries: dict[str, Path]) -> None:
        self.daemons.start(
            "kube-controller-manager",
            [
                binaries["kube-controller-manager"],
                f"--kubeconfig={self.state / 'controller-manager.kubeconfig'}",
                f"--authentication-kubeconfig={self.state / 'controller-manager.kubeconfig'}",
                f"--authorization-kubeconfig={self.state / 'controller-manager.kubeconfig'}",
                f"--service-account-private-key-file={self.pki / 'sa.key'}",
                f"--root-ca-file={self.pki / 'ca.crt'}",
                "--use-service-account-credentials=true",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--service-cluster-ip-range={network.SERVICE_CIDR}",
                "--v=1",
            ],
        )
        self.daemons.start(
            "kube-scheduler",
            [
                binaries["kube-scheduler"],
                f"--kubeconfig={self.state / 'scheduler.kubeconfig'}",
                f"--authentication-kubeconfig={self.state / 'scheduler.kubeconfig'}",
                f"--authorization-kubeconfig={self.state / 'scheduler.kubeconfig'}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--v=1",
            ],
        )

    def _start_containerd(self) -> None:
        root = self.state / "containerd"
        (root / "cni").mkdir(parents=True, exist_ok=True)
        (root / "cni" / "10-argosy.conflist").write_text(network.cni_config(root / "ipam"))
        # nothing is pulled: every registry resolves to a closed port on loopback, so a missing
        # image fails at once (ErrImagePull) and no request leaves the machine
        registries = root / "registries" / "_default"
        registries.mkdir(parents=True, exist_ok=True)
        (registries / "hosts.toml").write_text('server = "http://127.0.0.1:9"\n')
        config = root / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{root / "root"}"\n'
            f'state = "{root / "state"}"\n'
            f'[grpc]\n  address = "{self.containerd_socket}"\n'
            '[plugins."io.containerd.grpc.v1.cri"]\n'
            f'  sandbox_image = "{PAUSE_IMAGE}"\n'
            # no CAP_SYS_RESOURCE here: a negative oom_score_adj (the sandbox's, Guaranteed
            # pods') would fail runc, so keep it at or above containerd's own
            "  restrict_oom_score_adj = true\n"
            '  [plugins."io.containerd.grpc.v1.cri".containerd]\n'
            '    snapshotter = "overlayfs"\n'
            '    default_runtime_name = "runc"\n'
            '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
            '      runtime_type = "io.containerd.runc.v2"\n'
            '  [plugins."io.containerd.grpc.v1.cri".registry]\n'
            f'    config_path = "{root / "registries"}"\n'
            '  [plugins."io.containerd.grpc.v1.cri".cni]\n'
            '    bin_dir = "/usr/lib/cni"\n'
            f'    conf_dir = "{root / "cni"}"\n'
        )
        self.daemons.start("containerd", ["containerd", "--config", config])
        self.daemons.wait_until("containerd", self._containerd_ready, 60)

    def ctr(self, *args: str, **kwargs) -> subprocess.CompletedProcess[bytes]:
        """``ctr`` against this node's containerd, in Kubernetes' namespace (k8s.io)."""
        return subprocess.run(
            ["ctr", "--address", str(self.containerd_socket), "--namespace", "k8s.io", *args],
            capture_output=True,
            **kwargs,
        )

    def _containerd_ready(self) -> bool:
        return self.ctr("version").returncode == 0

    def _start_kubelet(self, kubelet: Path) -> None:
        root = self.state / "kubelet"
        root.mkdir(parents=True, exist_ok=True)
        resolv = self.state / "pod-resolv.conf"
        resolv.write_text("")  # pods of dnsPolicy Default get no outside resolver
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": network.NODE_IP,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "authentication": {
                "x509": {"clientCAFile": str(self.pki / "ca.crt")},
                "webhook": {"enabled": False},
                "anonymous": {"enabled": False},
            },
            "authorization": {"mode": "AlwaysAllow"},
            "tlsCertFile": str(self._credential("kubelet-serving").cert),
            "tlsPrivateKeyFile": str(self._credential("kubelet-serving").key),
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "cgroupDriver": "cgroupfs",
            "failCgroupV1": False,
            "failSwapOn": False,
            "clusterDomain": network.CLUSTER_DOMAIN,
            "clusterDNS": [network.NODE_IP],
            "resolvConf": str(resolv),
            "podLogsDir": str(self.state / "pod-logs"),
            # nothing can be pulled again: never collect an image, never evict for disk
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                             "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
            "serializeImagePulls": False,
            "maxPods": 250,
            "podPidsLimit": -1,
            "registerNode": True,
            "registerWithTaints": [_taint(GPU_TAINT)],
            "nodeStatusReportFrequency": "10s",
            "syncFrequency": "10s",
        }  # fmt: skip
        config_path = self.state / "kubelet-config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        self.daemons.start(
            "kubelet",
            [
                kubelet,
                f"--config={config_path}",
                f"--kubeconfig={self.state / 'kubelet.kubeconfig'}",
                f"--root-dir={root}",
                f"--cert-dir={self.pki}",
                f"--hostname-override={network.NODE_NAME}",
                f"--node-ip={network.NODE_IP}",
                f"--node-labels={GPU_LABEL[0]}={GPU_LABEL[1]}",
                "--v=1",
            ],
        )
        self.daemons.wait_until("kubelet", self._node_ready, 120, "Ready")
        self._advertise_gpus()

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        """kubectl as the cluster admin."""
        done = subprocess.run(
            ["kubectl", f"--kubeconfig={self.admin_kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def _node_ready(self) -> bool:
        node = json.loads(self.kubectl("get", "node", network.NODE_NAME, "-o", "json"))
        conditions = {c["type"]: c["status"] for c in node["status"].get("conditions", [])}
        return conditions.get("Ready") == "True"

    def _advertise_gpus(self) -> None:
        patch = [{"op": "add", "path": "/status/capacity/nvidia.com~1gpu", "value": str(FAKE_GPUS)}]
        self.kubectl(
            "patch", "node", network.NODE_NAME, "--subresource=status", "--type=json",
            "-p", json.dumps(patch),
        )  # fmt: skip

    def _start_proxy(self, proxy: Path) -> None:
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "mode": "nftables",
            "clusterCIDR": network.POD_CIDR,
            "hostnameOverride": network.NODE_NAME,
            "bindAddress": network.NODE_IP,
            "healthzBindAddress": "127.0.0.1:10256",
            "metricsBindAddress": "127.0.0.1:10249",
            "clientConnection": {"kubeconfig": str(self.state / "proxy.kubeconfig")},
            "conntrack": {"maxPerCore": 0, "min": 0},  # leave the machine's conntrack as it is
        }
        config_path = self.state / "kube-proxy-config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        self.daemons.start("kube-proxy", [proxy, f"--config={config_path}", "--v=1"])
        self.daemons.wait_until(
            "kube-proxy", lambda: http_ok("http://127.0.0.1:10256/healthz"), 60, "healthy"
        )

    def _start_dns(self, coredns: Path) -> None:
        corefile = self.state / "Corefile"
        corefile.write_text(
            f"{network.CLUSTER_DOMAIN}:53 {{\n"
            f"    bind {network.NODE_IP}\n"
            "    errors\n"
            f"    kubernetes {network.CLUSTER_DOMAIN} {{\n"
            f"        kubeconfig {self.admin_kubeconfig} argosy-test\n"
            "    }\n"
            "    cache 5\n"
            "}\n"
        )
        self.daemons.start("coredns", [coredns, "-conf", corefile])
        self.daemons.wait_until("coredns", self._dns_answers, 60, "answering")

    def _dns_answers(self) -> bool:
        return _dns_resolves(f"kubernetes.default.svc.{network.CLUSTER_DOMAIN}")

    # -- stop -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every daemon and pod, unmount what they mounted, remove the network."""
        self.daemons.stop("workflow-controller")
        self.daemons.stop("kubelet")
        teardown.kill_pods()
        self.daemons.stop("containerd")
        teardown.kill_shims(self.state / "containerd")
        for name in STOP_ORDER:
            self.daemons.stop(name)
        for name in self.daemons.names():
            self.daemons.stop(name)
        teardown.unmount_under(self.state)
        teardown.remove_pod_netns()
        teardown.remove_proxy_rules()
        network.tear_down()
        teardown.remove_pod_cgroups()

    def healthy(self) -> bool:
        """Is a cluster started from this state up and serving (for reuse)?"""
        try:
            return all(self.daemons.alive(n) for n in STOP_ORDER) and self._node_ready()
        except (OSError, RuntimeError):
            return False


def _taint(spec: str) -> dict[str, str]:
    key_value, effect = spec.split(":")
    key, value = key_value.split("=")
    return {"key": key, "value": value, "effect": effect}


def _dns_resolves(name: str) -> bool:
    """Ask CoreDNS on the node address for ``name`` (the machine's resolver does not know it)."""
    query = struct.pack(">HHHHHH", 0x4172, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    query += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(query, (network.NODE_IP, 53))
        answer, _ = sock.recvfrom(512)
    answers = struct.unpack(">H", answer[6:8])[0]
    return answer[3] & 0x0F == 0 and answers > 0


__all__ = ["FAKE_GPUS", "GPU_LABEL", "GPU_TAINT", "PAUSE_IMAGE", "Node", "StartupError"]
