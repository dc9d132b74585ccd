"""Errors every service maps the same way onto gRPC statuses."""


class InvalidRequest(ValueError):
    """The request can never succeed as sent; servicers answer INVALID_ARGUMENT with this message."""
