"""The test cluster's network on this machine: one bridge for the node and its pods.

The node's address is the bridge's (``NODE_IP``): the API server, the kubelet, CoreDNS and the
NodePorts listen there, and pods reach them through the bridge. Pods get addresses from
``POD_CIDR`` (the CNI bridge plugin); Service addresses (``SERVICE_CIDR``) are routed onto the
bridge too, so they never leave the machine, and a firewall table drops whatever a pod sends
out of any other interface: nothing of the cluster's reaches the outside network.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

BRIDGE = "argosy0"
NODE_NAME = "argosy-node"
NODE_IP = "10.244.0.1"
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
CLUSTER_DOMAIN = "cluster.local"
FIREWALL_TABLE = "argosy_cluster"


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done


def _sysctl(name: str, value: str) -> None:
    Path("/proc/sys", *name.split(".")).write_text(value)


def bridge_exists() -> bool:
    return _run("ip", "link", "show", BRIDGE, check=False).returncode == 0


def set_up() -> None:
    """The bridge with the node address, the Service route, forwarding and the firewall."""
    if not bridge_exists():
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
    _run("ip", "addr", "replace", f"{NODE_IP}/24", "dev", BRIDGE)
    _run("ip", "link", "set", BRIDGE, "up")
    _run("ip", "route", "replace", SERVICE_CIDR, "dev", BRIDGE, "src", NODE_IP)
    _sysctl("net.ipv4.ip_forward", "1")
    # replies between two pods of one bridge must pass the Service NAT (kube-proxy's rules)
    _sysctl("net.bridge.bridge-nf-call-iptables", "1")
    ruleset = (
        f"table inet {FIREWALL_TABLE} {{\n"
        "  chain forward {\n"
        "    type filter hook forward priority -10; policy accept;\n"
        f'    iifname "{BRIDGE}" oifname != "{BRIDGE}" drop\n'
        "  }\n"
        "}\n"
    )
    _run("nft", "delete", "table", "inet", FIREWALL_TABLE, check=False)
    done = subprocess.run(["nft", "-f", "-"], input=ruleset, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"cannot load the cluster's firewall table: {done.stderr.strip()}")


def tear_down() -> None:
    """Remove the bridge (and with it its routes) and the firewall table."""
    _run("nft", "delete", "table", "inet", FIREWALL_TABLE, check=False)
    _run("ip", "link", "delete", BRIDGE, check=False)


def cni_config(ipam_dir: Path) -> str:
    """The CNI network of the node's pods: the bridge, host-local addresses, no masquerade."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": "argosy-pods",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR, "gateway": NODE_IP}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                        "dataDir": str(ipam_dir),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


__all__ = [
    "BRIDGE",
    "CLUSTER_DOMAIN",
    "KUBERNETES_SERVICE_IP",
    "NODE_IP",
    "NODE_NAME",
    "POD_CIDR",
    "SERVICE_CIDR",
    "bridge_exists",
    "cni_config",
    "set_up",
    "tear_down",
]
