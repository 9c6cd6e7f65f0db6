"""Timeline kinds written by routing (``after`` holds the details)."""

# Routing chose an agent: {"agent", "strategy", "load", "capacity", "skills"}.
ASSIGNED = "routing.assigned"
# Up or down the tier ladder: {"from_tier", "to_tier", "from_team", "to_team", "note"}.
ESCALATED = "routing.escalated"
DEESCALATED = "routing.deescalated"
# Handed to another team or agent: {"from_team", "to_team", "from_agent", "to_agent", "note"}.
TRANSFERRED = "routing.transferred"
