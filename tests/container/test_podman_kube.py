"""packaging/container/pod.yaml under `podman kube play`, as written: the
image it names is built from Containerfile.services, and the test reads the
container's command and probes from the manifest, so it follows the file."""
import json
import time

import pytest
import yaml

from engine import CONTAINER_DIR, wait_for

MANIFEST = CONTAINER_DIR / "pod.yaml"


@pytest.fixture(scope="module")
def pod(podman, services_image):
    spec = yaml.safe_load(MANIFEST.read_text())
    (container,) = spec["spec"]["containers"]
    podman.run("tag", services_image, container["image"])
    # No network: nothing on the host changes (no bridge, no firewall rules).
    podman.run("kube", "play", "--network", "none", str(MANIFEST), timeout=120)
    try:
        yield spec, container, f"{spec['metadata']['name']}-{container['name']}"
    finally:
        podman.run("kube", "down", str(MANIFEST), check=False, timeout=60)


def probe(podman, name, container, kind):
    """Runs the manifest's exec probe inside the container: True when it passes."""
    command = container[kind]["exec"]["command"]
    timeout = container[kind].get("timeoutSeconds", 1)
    return podman.run("exec", name, *command, check=False,
                      timeout=timeout + 30).returncode == 0


def liveness_as_podman_runs_it(podman, name):
    result = podman.run("healthcheck", "run", name, check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


def test_the_pod_runs_foster_as_pid_1_with_the_manifests_command(podman, pod):
    _, container, name = pod
    ps = podman.run("exec", name, "ps", "-o", "pid,args").stdout.splitlines()
    assert ps[1].split(None, 1) == ["1", " ".join(container["command"])]


def test_the_liveness_probe_becomes_the_containers_healthcheck(podman, pod):
    _, container, name = pod
    test = json.loads(podman.run("inspect", "-f", "{{json .Config.Healthcheck.Test}}",
                                 name).stdout)
    command = container["livenessProbe"]["exec"]["command"]
    # podman 4.3 turns an exec probe into ["CMD-SHELL", *command, "||", "exit", "1"],
    # which it runs as /bin/sh -c "COMMAND || exit 1" (so the image needs a /bin/sh).
    assert test[0] in ("CMD", "CMD-SHELL") and test[1:1 + len(command)] == command


def test_the_probes_follow_the_services(podman, pod):
    _, container, name = pod
    wait_for("the liveness probe to pass",
             lambda: liveness_as_podman_runs_it(podman, name), interval=0.3)
    assert probe(podman, name, container, "readinessProbe")

    podman.run("exec", name, "/fosterctl", "stop", "web")
    assert not liveness_as_podman_runs_it(podman, name)
    assert not probe(podman, name, container, "readinessProbe")

    podman.run("exec", name, "/fosterctl", "start", "web")
    wait_for("the readiness probe to pass again",
             lambda: probe(podman, name, container, "readinessProbe"), interval=0.3)
    assert liveness_as_podman_runs_it(podman, name)


def test_stopping_the_pod_stops_the_services_in_order_within_the_grace(podman, pod, note):
    spec, _, name = pod
    grace = spec["spec"]["terminationGracePeriodSeconds"]
    podman.run("exec", name, "/fosterctl", "start", "db", "web")  # whatever came before
    wait_for("the stack to be healthy",
             lambda: liveness_as_podman_runs_it(podman, name), interval=0.3)
    started = time.monotonic()
    podman.run("pod", "stop", "-t", str(grace), spec["metadata"]["name"],
               timeout=grace + 30)
    took = time.monotonic() - started
    note(f"podman pod stop -t {grace} of pod.yaml's pod: {took:.2f}s")

    assert podman.run("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    log = podman.run("logs", name).stderr.splitlines()
    shutdown = log[log.index("foster: received SIGTERM; stopping every service"):]
    stopping = [line for line in shutdown if "running → stopping" in line]
    assert [line.split(":")[1].strip() for line in stopping] == ["web", "db"]
    assert took < grace
