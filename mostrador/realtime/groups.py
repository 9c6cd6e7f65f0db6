"""Channel-layer group names, in one place: who receives what."""

DESK = "desk"  # every signed-in agent's connection: inbox-list updates, new-chat alerts


def agent(user_id: int) -> str:
    """One agent's connections (every tab): assignments, their chats' messages."""
    return f"agent.{user_id}"


def conversation(conversation_id: int) -> str:
    """Agents watching a conversation: its messages, presence, the visitor's typing."""
    return f"conv.{conversation_id}"


def visitor(sender_id: str) -> str:
    """One person's chat widgets: every tab and every device (magic link) share the sender id.
    Frames carry their conversation; a widget passes on those of the conversation it shows."""
    return f"visitor.{sender_id}"


def chat_inbox(inbox_id: int) -> str:
    """Every widget open on an inbox: availability changes."""
    return f"chatinbox.{inbox_id}"
