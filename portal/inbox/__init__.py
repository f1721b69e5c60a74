"""The inbox: every signed-in person's notifications, in their language, with unread counts."""
