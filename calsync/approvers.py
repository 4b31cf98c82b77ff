"""Who approves anything: the people for whom the page offers 待我审批.

The rule is calsync.access's (:func:`calsync.access.approves_by_position`, with
:func:`calsync.access.leave_step` and :func:`calsync.access.may_decide_request` for the items
actually addressed to someone); it is re-exported here for the callers that know this name."""

from __future__ import annotations

from calsync.access import approves_by_position

__all__ = ["approves_by_position"]
