"""Timeline event kinds written by the SLA app.

``after`` holds ``{"targets": [{"kind", "due"}…], "policy": name}`` for the clock steps, and
``{"kind", "due", "notified": [user ids]}`` for warnings and breaches; ``sla.escalated`` holds
what the escalation changed.
"""

STARTED = "sla.started"
PAUSED = "sla.paused"
RESUMED = "sla.resumed"
MET = "sla.met"
RECOMPUTED = "sla.recomputed"
CANCELLED = "sla.cancelled"
WARNING = "sla.warning"
BREACHED = "sla.breached"
ESCALATED = "sla.escalated"
AFTER_HOURS = "sla.after_hours"

# The planner's step names and the event each writes.
FOR_CHANGE = {"started": STARTED, "paused": PAUSED, "resumed": RESUMED, "met": MET,
              "recomputed": RECOMPUTED, "cancelled": CANCELLED}
ALL = frozenset({*FOR_CHANGE.values(), WARNING, BREACHED, ESCALATED, AFTER_HOURS})
