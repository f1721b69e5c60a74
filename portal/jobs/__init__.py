"""Background jobs: the portal's runtime on RQ (or a thread without Redis) and the job kinds.

``registry`` names the kinds, ``runtime`` queues runs after the commit, ``execution`` runs one
(claim, lease, fence, progress, failure), ``bodies`` registers the domain bodies (plain
functions of a ``core.jobs.JobContext`` in ``volunteers/jobs.py``, ``incentives/jobs.py``, …).
RQ messages name ``portal.jobs.run_job`` and ``portal.jobs.send_notification``: keep both here.
"""

from incentives.jobs import EXPORTERS
from portal.jobs import bodies as _bodies  # noqa: F401  (registers the job kinds)
from portal.jobs.execution import execute, run_job, send_notification
from portal.jobs.registry import (
    ATTEMPT_TTL,
    JOBS,
    LEASE_SPACE,
    RETRY_INTERVALS,
    RETRY_MAX,
    STALE_MARGIN,
    JobSpec,
    _redis,
    job,
    queue_lengths,
    queue_name,
    transient,
)
from portal.jobs.runtime import dispatch, install, relay_stale, retry, submit

__all__ = [
    "ATTEMPT_TTL",
    "EXPORTERS",
    "JOBS",
    "LEASE_SPACE",
    "RETRY_INTERVALS",
    "RETRY_MAX",
    "STALE_MARGIN",
    "JobSpec",
    "_redis",
    "dispatch",
    "execute",
    "install",
    "job",
    "queue_lengths",
    "queue_name",
    "relay_stale",
    "retry",
    "run_job",
    "send_notification",
    "submit",
    "transient",
]
