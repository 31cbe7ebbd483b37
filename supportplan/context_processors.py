from supportplan.selectors import plans_for


def navigation(request) -> dict:
    """The plan switcher's entries, evaluated only when a template uses them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_plans": lambda: list(plans_for(user=user).only("slug", "name"))}
