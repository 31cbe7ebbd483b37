"""The browser's middleware, stepped over by API requests that carry an API key.

A helpdesk integration calls ``/api/…`` with ``Authorization: Api-Key <key>`` (or ``Bearer``), and
DRF authenticates it from that header alone (``ApiKeyAuthentication`` either accepts the key or
refuses the request: it never falls through to the session). For such a request the session,
``request.user`` from the session, the messages and the htmx details are never read: loading them
cost about a tenth of the CPU of an event write. Each class here is Django's (or django-htmx's)
own, run as usual for every other request (pages, the admin, the API with a session), and listed
in ``MIDDLEWARE`` in its usual place, so Django's checks and ordering still apply. Django's CSRF
middleware stays as it is: it does next to nothing for DRF's views (CSRF-exempt; DRF's session
authentication checks the token itself), and Django's deploy check looks for it by name.

Stepping over ``AuthenticationMiddleware`` leaves ``request.user`` anonymous until DRF sets the key's
principal on the request.
"""

from __future__ import annotations

from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django_htmx.middleware import HtmxMiddleware as DjangoHtmxMiddleware

from supportplan.api_auth import names_api_key

API_PREFIX = "/api/"
_DECISION = "_supportplan_api_key_request"


def is_api_key_request(request) -> bool:
    """Whether ``request`` is for the API and names an API key in ``Authorization``
    (``names_api_key``, whatever the key: a wrong one is refused there). Decided once per request."""
    decision = getattr(request, _DECISION, None)
    if decision is None:
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        decision = request.path_info.startswith(API_PREFIX) and names_api_key(authorization)
        setattr(request, _DECISION, decision)
    return decision


class _BrowserOnly:
    """Runs the middleware it is mixed into unless the request is an API-key request."""

    sync_capable, async_capable = True, False  # the site is served over WSGI

    def __call__(self, request):
        if is_api_key_request(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_BrowserOnly, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(_BrowserOnly, DjangoAuthenticationMiddleware):
    def __call__(self, request):
        if is_api_key_request(request):
            request.user = AnonymousUser()  # DRF replaces it with the key's principal
            return self.get_response(request)
        return super().__call__(request)


class MessageMiddleware(_BrowserOnly, DjangoMessageMiddleware):
    pass


class HtmxMiddleware(_BrowserOnly, DjangoHtmxMiddleware):
    pass
