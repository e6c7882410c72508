"""Repeating jobs on python-telegram-bot's JobQueue, registered once per name."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)


def repeat_once(
    application: Any,
    callback: Callable[[Any], Awaitable[None]],
    *,
    every: float,
    name: str,
    without_queue: str,
    data: object = None,
) -> None:
    """Run ``callback`` every ``every`` seconds (first after one interval) as job ``name``,
    unless a job of that name is scheduled already; without a JobQueue (PTB installed without
    its ``job-queue`` extra) log the WARNING ``without_queue`` instead."""
    queue = application.job_queue
    if queue is None:
        logger.warning("%s", without_queue)
        return
    if queue.get_jobs_by_name(name):
        return
    queue.run_repeating(callback, interval=every, first=every, name=name, data=data)
