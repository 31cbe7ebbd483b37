from operations.notify.selectors import unread_count


def notifications(request) -> dict:
    """The header's unread count, counted only when a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "pk", None):
        return {}
    return {"unread_notifications": lambda: unread_count(user)}
