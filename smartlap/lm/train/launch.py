"""Launchers: notice when one started fewer training processes than the person asked for.

``accelerate launch --num_processes 2 --cpu`` uses accelerate's simple launcher, which
starts one process (it only sets MASTER_ADDR/MASTER_PORT); the run would then train alone
and silently take twice as long. torchrun and accelerate's multi-GPU launcher set
WORLD_SIZE; MPI launchers set their own size variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from smartlap.errors import UsageError

WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE",
                        "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")
WORKING_COMMAND = "torchrun --nproc_per_node 2 -m smartlap train ..."


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "y", "on")


def check_launch(env: Mapping[str, str] | None = None) -> None:
    """UsageError when a launcher asked for several processes but started only this one."""
    env = os.environ if env is None else env
    several_asked = bool(env.get("MASTER_ADDR")) and _true(env.get("ACCELERATE_USE_CPU"))
    if several_asked and not any(env.get(name) for name in WORLD_SIZE_VARIABLES):
        raise UsageError(
            "accelerate launch was asked for several CPU processes, but started only one "
            "(its --cpu launcher runs a single process).",
            f"Use '{WORKING_COMMAND}' for several CPU processes, or drop --num_processes "
            "to train in one.")
