"""Timeline kinds written by automation."""

# A trigger ran its actions: {"trigger", "name", "actions": [types], "skipped": [reasons]}.
TRIGGER_FIRED = "automation.fired"
# A time rule ran: {"rule", "name", "actions", "skipped"}.
TIME_RULE_FIRED = "automation.time_rule"
# An agent applied a macro: {"macro", "name", "actions", "skipped"}.
MACRO_APPLIED = "automation.macro"
