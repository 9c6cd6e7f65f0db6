"""Event kinds written to a conversation's timeline.

``before`` and ``after`` hold the changed values (ids for people and teams, names for tags).
"""

CONVERSATION_CREATED = "conversation.created"
FOLLOW_UP_OPENED = "conversation.follow_up_opened"
MERGED = "conversation.merged"
MERGED_INTO = "conversation.merged_into"
# A message was split off into a new conversation (after: {"conversation": new id}).
SPLIT = "conversation.split"
CUSTOMER_CHANGED = "conversation.customer_changed"
MESSAGE_RECEIVED = "message.received"
MESSAGE_AUTOMATIC = "message.automatic"
REPLY_QUEUED = "message.reply_queued"
MESSAGE_SENT = "message.sent"
MESSAGE_FAILED = "message.failed"
MESSAGE_BOUNCED = "message.bounced"
NOTE_ADDED = "note.added"
# One per agent named with @ in a note (after: {"user": id}).
NOTE_MENTIONED = "note.mentioned"
STATUS_CHANGED = "status.changed"
PRIORITY_CHANGED = "priority.changed"
ASSIGNEE_CHANGED = "assignee.changed"
TEAM_CHANGED = "team.changed"
TIER_CHANGED = "tier.changed"
TAGS_CHANGED = "tags.changed"
SUBJECT_CHANGED = "subject.changed"
FIELDS_CHANGED = "fields.changed"
