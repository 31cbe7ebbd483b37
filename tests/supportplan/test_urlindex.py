"""The indexed API resolver answers every path exactly as Django's resolver over the same patterns."""

import re

import pytest
from django.urls import Resolver404, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern, URLResolver

from supportplan.urlindex import IndexedResolver, index_key, literal_prefix
from supportplan.urls import router

GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def sample_paths(regex: str) -> list[str]:
    """Paths a router pattern matches (and near misses), built from its regular expression."""
    text = GROUP.sub(lambda found: "json" if found["name"] == "format" else "12", regex)
    text = text.removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    text = text.replace("/?", "/").replace("\\.", ".")
    return [text, text.rstrip("/"), text + "x/", text.upper(), "x" + text]


def plain_and_indexed():
    return (
        URLResolver(RoutePattern("api/v1/", is_endpoint=False), router.urls),
        IndexedResolver(RoutePattern("api/v1/", is_endpoint=False), router.urls),
    )


def outcome(resolver, path):
    try:
        found = resolver.resolve(path)
    except Resolver404 as missing:
        return ("404", len(missing.args[0].get("tried", [])))
    return (found.func, found.args, found.kwargs, found.url_name, found.route, found.namespaces)


def test_every_router_path_resolves_as_with_the_plain_resolver():
    plain, indexed = plain_and_indexed()
    paths = {"", ".json", "requests", "requests.json", "nothing/", "requests/12/events/", "/requests/"}
    for pattern in router.urls:
        paths.update(sample_paths(pattern.pattern.regex.pattern))
    assert len(paths) > 500
    for path in sorted(paths):
        assert outcome(indexed, "api/v1/" + path) == outcome(plain, "api/v1/" + path), path


def test_the_api_resolver_is_indexed_and_names_still_reverse():
    api = [entry for entry in get_resolver().url_patterns if isinstance(entry, IndexedResolver)]
    assert len(api) == 1
    assert reverse("supportrequest-events", args=[5]) == "/api/v1/requests/5/events/"
    match = resolve("/api/v1/requests/5/events/")
    assert (match.url_name, match.kwargs) == ("supportrequest-events", {"pk": "5"})
    assert resolve("/api/v1/").url_name == "api-root"
    assert resolve("/api/v1/plans/x.json").kwargs == {"slug": "x", "format": "json"}


def test_a_miss_lists_every_pattern_tried_as_before():
    plain, indexed = plain_and_indexed()
    with pytest.raises(Resolver404) as missing:
        indexed.resolve("api/v1/requests/abc/")
    assert len(missing.value.args[0]["tried"]) == len(router.urls)
    assert outcome(indexed, "elsewhere/") == outcome(plain, "elsewhere/")


@pytest.mark.parametrize(
    ("regex", "prefix"),
    [
        (r"^requests/$", "requests/"),
        (r"^requests\.(?P<format>[a-z0-9]+)/?$", "requests."),
        (r"^requests/?$", "requests"),
        (r"^status-mappings/(?P<pk>[^/.]+)/$", "status-mappings/"),
        (r"^a+b/", ""),
        (r"^ab{2}/", "a"),
        (r"^a/|b/", ""),
        (r"requests/", ""),
        (r"^\Z", ""),
        (r"^(?i)requests/", ""),
        (r"^req.ests/", "req"),
    ],
)
def test_the_literal_prefix_is_only_what_every_match_starts_with(regex, prefix):
    assert literal_prefix(regex) == prefix


def test_patterns_without_a_sure_first_segment_are_tried_for_every_path():
    keys = {index_key(pattern) for pattern in router.urls}
    assert None in keys  # the API root and its format suffix
    assert "requests" in keys
