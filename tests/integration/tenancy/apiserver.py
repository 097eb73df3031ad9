"""A real Kubernetes API server on 127.0.0.1 for the tests and the benchmark: etcd,
kube-apiserver and kube-controller-manager (namespace, resource quota and garbage collection
controllers) from the binaries capacity builds (capacity/engine/kubernetes_bins.py), with
Kueue's ResourceFlavor, ClusterQueue and LocalQueue CRDs applied. Stopped by `stop()`, every
process it started, by its own handle."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from capacity.engine.kubernetes_bins import KubernetesBins

HOST = "127.0.0.1"
READY_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@dataclass
class LocalApiServer:
    bins: KubernetesBins
    work: Path
    token: str = "capacity-tests-admin-token"
    port: int = 0
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.work / "kubeconfig"

    def start(self) -> "LocalApiServer":
        self.work.mkdir(parents=True, exist_ok=True)
        try:
            self._credentials()
            etcd_port, peer_port, self.port = _free_port(), _free_port(), _free_port()
            self._spawn("etcd", [
                "--name", "default", "--data-dir", str(self.work / "etcd"), "--unsafe-no-fsync",
                "--listen-client-urls", f"http://{HOST}:{etcd_port}",
                "--advertise-client-urls", f"http://{HOST}:{etcd_port}",
                "--listen-peer-urls", f"http://{HOST}:{peer_port}",
                "--initial-advertise-peer-urls", f"http://{HOST}:{peer_port}",
                "--initial-cluster", f"default=http://{HOST}:{peer_port}"])
            self._spawn("kube-apiserver", [
                f"--etcd-servers=http://{HOST}:{etcd_port}", f"--bind-address={HOST}", f"--advertise-address={HOST}",
                f"--secure-port={self.port}", f"--tls-cert-file={self.work / 'server.crt'}",
                f"--tls-private-key-file={self.work / 'server.key'}",
                f"--service-account-key-file={self.work / 'sa.pub'}",
                f"--service-account-signing-key-file={self.work / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--token-auth-file={self.work / 'tokens.csv'}", "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.96.0.0/24", "--endpoint-reconciler-type=none"])
            self._write_kubeconfig()
            self._wait_ready()
            self._spawn("kube-controller-manager", [
                f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", "--secure-port=0",
                "--controllers=namespace-controller,resourcequota-controller,garbage-collector-controller,"
                "clusterrole-aggregation-controller"])
            self.kubectl("apply", "--server-side", *[arg for crd in self.bins.kueue_crds for arg in ("-f", str(crd))])
            self.kubectl("wait", "--for=condition=established", "--timeout=60s",
                         *[f"crd/{crd.name.split('_', 1)[1].removesuffix('.yaml')}.kueue.x-k8s.io"
                           for crd in self.bins.kueue_crds])
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.processes):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.processes.clear()

    # -- reading back

    def kubectl(self, *args: str) -> str:
        proc = subprocess.run(["kubectl", f"--kubeconfig={self.kubeconfig}", *args], capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def get(self, *args: str) -> dict | None:
        """`kubectl get ... -o json`, or None when it is not found."""
        try:
            return json.loads(self.kubectl("get", *args, "-o", "json"))
        except RuntimeError as exc:
            if "NotFound" in str(exc) or "not found" in str(exc):
                return None
            raise

    def names(self, kind: str, namespace: str | None = None, selector: str = "capacity.dev/lease") -> list[str]:
        scope = ["-n", namespace] if namespace else ["--all-namespaces"]
        items = json.loads(self.kubectl("get", kind, *scope, "-l", selector, "-o", "json"))["items"]
        return sorted(item["metadata"]["name"] for item in items)

    # -- setting up

    def _credentials(self) -> None:
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self.work / "server.key"),
                 "-out", str(self.work / "server.crt"))
        _openssl("genrsa", "-out", str(self.work / "sa.key"), "2048")
        _openssl("rsa", "-in", str(self.work / "sa.key"), "-pubout", "-out", str(self.work / "sa.pub"))
        (self.work / "tokens.csv").write_text(f'{self.token},admin,admin,"system:masters"\n')
        for name in ("server.key", "sa.key", "tokens.csv"):
            os.chmod(self.work / name, 0o600)

    def _write_kubeconfig(self) -> None:
        import base64

        ca = base64.b64encode((self.work / "server.crt").read_bytes()).decode()
        self.kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "local",
            "clusters": [{"name": "local", "cluster": {"server": self.url, "certificate-authority-data": ca}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
            "users": [{"name": "admin", "user": {"token": self.token}}]}))
        os.chmod(self.kubeconfig, 0o600)

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.work / f"{name}.log", "wb")
        try:
            self.processes.append(subprocess.Popen([str(self.bins.server(name)), *args], stdout=log,
                                                   stderr=subprocess.STDOUT, cwd=self.work))
        finally:
            log.close()

    def _wait_ready(self) -> None:
        context = ssl.create_default_context(cafile=str(self.work / "server.crt"))
        request = urllib.request.Request(f"{self.url}/readyz", headers={"Authorization": f"Bearer {self.token}"})
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            for proc in self.processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}; see its log in {self.work}")
            try:
                with urllib.request.urlopen(request, context=context, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API server was not ready within {READY_TIMEOUT}s; see {self.work}")
            time.sleep(0.5)


def kubectl_available() -> bool:
    return shutil.which("kubectl") is not None
