"""A URL resolver that tries only the patterns that could match a path's first segment.

The API router holds some 260 patterns (every viewset, with DRF's format-suffix variants); Django's
resolver tries them in order, so a request for a late-registered viewset such as ``requests`` ran
~200 regular expressions before its own. ``IndexedResolver`` resolves exactly as ``URLResolver``
does over the same ordered patterns, but first narrows them to the ones whose fixed leading text
agrees with the path's first segment (plus any it cannot index), keeping their order: a pattern
left out cannot match, so the first match, its arguments, name and route are the same.

``url_patterns`` is unchanged, so ``reverse()``, the system checks and the OpenAPI schema see the
same patterns. Two differences, both invisible to views: a miss falls back to the full scan (the
404, and its debug page, list every pattern as before); a hit's ``ResolverMatch.tried`` lists only
the narrowed patterns tried before it.
"""

from __future__ import annotations

import re

from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern, URLPattern, URLResolver

#: Characters that stand for themselves in a regular expression (unescaped).
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/")
_QUANTIFIERS = frozenset("?*+{")
_SEPARATORS = re.compile(r"[/.]")


def literal_prefix(regex: str) -> str:
    """The text every match of ``regex`` (anchored with ``^``) must start with; "" if none is sure."""
    if not regex.startswith("^") or "|" in regex:
        return ""
    literal = []
    index = 1
    while index < len(regex):
        char = regex[index]
        if char in _PLAIN:
            step = 1
        elif char == "\\" and index + 1 < len(regex) and not regex[index + 1].isalnum():
            char = regex[index + 1]
            step = 2
        else:
            break
        if index + step < len(regex) and regex[index + step] in _QUANTIFIERS:
            break  # optional or repeated: not a sure character
        literal.append(char)
        index += step
    return "".join(literal)


def _first_segment(text: str) -> str | None:
    """The text before the first ``/`` or ``.``; None when there is no separator."""
    found = _SEPARATORS.search(text)
    return None if found is None else text[: found.start()]


def index_key(pattern) -> str | None:
    """The first path segment every path ``pattern`` matches has; None if it cannot be told."""
    if not isinstance(pattern, URLPattern | URLResolver):
        return None
    inner = pattern.pattern
    if type(inner) is RegexPattern:
        source = inner._regex
    elif type(inner) is RoutePattern:
        source = inner._route
    else:
        return None
    if not isinstance(source, str):  # a translated route: its text depends on the language
        return None
    regex = inner.regex
    if regex.flags & re.IGNORECASE:
        return None
    return _first_segment(literal_prefix(regex.pattern))


class IndexedResolver(URLResolver):
    """``URLResolver`` with the patterns narrowed by the path's first segment (see the module)."""

    _index: tuple[dict[str, URLResolver], URLResolver] | None = None

    def _build_index(self) -> tuple[dict[str, URLResolver], URLResolver]:
        patterns = list(self.url_patterns)
        keys = [index_key(pattern) for pattern in patterns]
        names = {key for key in keys if key is not None}

        def narrowed(key: str | None) -> URLResolver:
            chosen = [pattern for pattern, own in zip(patterns, keys, strict=True) if own in (None, key)]
            return URLResolver(
                self.pattern, chosen, self.default_kwargs, app_name=self.app_name, namespace=self.namespace
            )

        index = ({name: narrowed(name) for name in names}, narrowed(None))
        self._index = index
        return index

    def resolve(self, path):
        path = str(path)
        match = self.pattern.match(path)
        if match:
            by_segment, unindexed = self._index or self._build_index()
            segment = _first_segment(match[0])
            candidate = by_segment.get(segment, unindexed) if segment is not None else unindexed
            try:
                return candidate.resolve(path)
            except Resolver404:
                pass  # a miss: the full scan answers it, with every pattern in its "tried" list
        return super().resolve(path)


def indexed_include(route: str, patterns: list) -> IndexedResolver:
    """``path(route, include(patterns))`` with an ``IndexedResolver``."""
    return IndexedResolver(RoutePattern(route, is_endpoint=False), patterns)
