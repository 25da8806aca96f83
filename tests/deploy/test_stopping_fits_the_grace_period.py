"""A pod's grace period covers everything a service does when it is told to stop."""

from __future__ import annotations

from typing import Any

from servicekit.client_address import HTTP_DRAIN_S
from servicekit.runtime import STOP_BUDGET_S
from tests.deploy.support import kind

SPARE_S = 5
"""Room for the process to exit and the kubelet to notice, beyond the measured parts."""


def test_every_deployment_waits_long_enough_for_its_service_to_stop(
    prod: list[dict[str, Any]],
) -> None:
    deployments = kind(prod, "Deployment")
    assert deployments, "the production overlay rendered no Deployment"
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        [container] = [c for c in pod["containers"] if c["name"] == name]
        pre_stop_s = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        needed_s = pre_stop_s + HTTP_DRAIN_S + STOP_BUDGET_S + SPARE_S
        assert pod["terminationGracePeriodSeconds"] >= needed_s, (
            f"Deployment/{name}: terminationGracePeriodSeconds "
            f"{pod['terminationGracePeriodSeconds']} is shorter than the preStop pause "
            f"({pre_stop_s} s), the HTTP drain ({HTTP_DRAIN_S} s), the stop budget "
            f"({STOP_BUDGET_S:g} s) and {SPARE_S} s to spare: the kubelet would kill the "
            "service halfway through stopping"
        )
