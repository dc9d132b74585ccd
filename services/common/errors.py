"""Errors that servicers raise and the server maps onto gRPC statuses (see interceptors.py).

Servicers never call context.abort themselves: they raise one of these, so every service
answers the same failure with the same status and a message a person can act on.
"""


class ServiceError(Exception):
    """Base class; the message is what the client reads."""


class InvalidRequest(ServiceError, ValueError):
    """The request can never succeed as sent: INVALID_ARGUMENT. Do not resend it."""


class NotFound(ServiceError, LookupError):
    """What was asked for does not exist (yet): NOT_FOUND."""


class Overloaded(ServiceError):
    """Over a bound (e.g. a full queue): RESOURCE_EXHAUSTED. Back off and resend."""


class Unavailable(ServiceError):
    """Not ready, or a dependency is down: UNAVAILABLE. Resend later."""


class Unauthenticated(ServiceError):
    """No credentials, or ones this service does not know: UNAUTHENTICATED."""


class PermissionDenied(ServiceError):
    """Known credentials that do not cover this request: PERMISSION_DENIED."""
