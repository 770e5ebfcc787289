"""The service-stack image (packaging/container/Containerfile.services: foster
-c with db and web, `fosterctl check` as HEALTHCHECK) under podman."""
import time

from engine import RUN, read_lines, wait_for


def healthy(podman, name):
    """What `podman healthcheck run` says now: True for healthy (exit 0)."""
    result = podman.run("healthcheck", "run", name, check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


def start_stack(podman, image, name, *options):
    # No timer for the HEALTHCHECK interval: podman would ask systemd for one
    # (run outside this test's private podman state); the test runs the check.
    podman.run(*RUN, "-d", "--name", name, "--health-interval", "disable", *options, image)
    wait_for("the stack to be healthy", lambda: healthy(podman, name), interval=0.3)


def test_healthcheck_follows_the_services(podman, services_image, containers):
    name = containers("health")
    start_stack(podman, services_image, name)

    # A service stopped by hand: fosterctl check fails at once.
    podman.run("exec", name, "/fosterctl", "stop", "web")
    assert not healthy(podman, name)
    podman.run("exec", name, "/fosterctl", "start", "web")
    wait_for("web to be healthy again", lambda: healthy(podman, name), interval=0.3)

    # web's own health probe fails (its page is gone): unhealthy after the
    # probe's retries, healthy again once the page is back.
    podman.run("exec", name, "rm", "/srv/www/health")
    wait_for("the container to turn unhealthy", lambda: not healthy(podman, name),
             interval=0.3)
    podman.run("exec", name, "sh", "-c", "echo ok > /srv/www/health")
    wait_for("the container to be healthy again", lambda: healthy(podman, name),
             interval=0.3)


def test_podman_stop_stops_the_services_in_reverse_dependency_order(
        podman, services_image, containers, tmp_path, note):
    name = containers("order")
    start_stack(podman, services_image, name, "-v", f"{tmp_path}:/var/log")

    engine_grace = 20
    started = time.monotonic()
    podman.run("stop", "-t", str(engine_grace), name, timeout=engine_grace + 30)
    took = time.monotonic() - started
    note(f"podman stop -t {engine_grace} of the service stack: {took:.2f}s "
         f"(shutdown_timeout 8s)")

    assert podman.run("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "0"
    log = read_lines(tmp_path / "stack.log")
    assert log == ["db started", "web started (db up)", "web stopping (db up)",
                   "db stopping"]
    # Each service stops at once on SIGTERM: nothing waits for a timeout.
    assert took < 8, f"podman stop took {took:.1f}s"
