"""Server interceptors every service gets from serve()."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import redis

from services.common.errors import (
    InvalidRequest,
    NotFound,
    Overloaded,
    PermissionDenied,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from services.common.metrics import RPC_SECONDS

log = logging.getLogger("cardak.rpc")

_STATUS = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
}


def _status_of(exc: Exception) -> grpc.StatusCode:
    """The gRPC status a ServiceError maps to; a Redis outage (or anything unmapped) is UNAVAILABLE."""
    return next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), grpc.StatusCode.UNAVAILABLE)


def _abort(context: grpc.ServicerContext, method: str, exc: Exception) -> None:
    if isinstance(exc, ServiceError):
        context.abort(_status_of(exc), str(exc))
    if isinstance(exc, redis.RedisError):
        log.error("redis unreachable", extra={"method": method, "error": str(exc)})
        context.abort(grpc.StatusCode.UNAVAILABLE, "the queue store (Redis) is unreachable; try again later")
    raise exc


class ErrorStatusInterceptor(grpc.ServerInterceptor):
    """Turns ServiceError (and Redis outages) raised by a servicer into gRPC statuses."""

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(handler.unary_unary, method), handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _streaming(handler.unary_stream, method), handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _unary(handler.stream_unary, method), handler.request_deserializer, handler.response_serializer
            )
        return grpc.stream_stream_rpc_method_handler(
            _streaming(handler.stream_stream, method), handler.request_deserializer, handler.response_serializer
        )


def _unary(behaviour: Callable[[Any, grpc.ServicerContext], Any], method: str) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        code = "OK"
        try:
            return behaviour(request, context)
        except (ServiceError, redis.RedisError) as exc:
            code = _status_of(exc).name
            _abort(context, method, exc)
        except Exception:
            code = "UNKNOWN"
            raise
        finally:
            RPC_SECONDS.labels(method=method, code=code).observe(time.perf_counter() - started)

    return call


def _streaming(behaviour: Callable[[Any, grpc.ServicerContext], Iterator[Any]], method: str) -> Callable[..., Any]:
    def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            yield from behaviour(request, context)
        except (ServiceError, redis.RedisError) as exc:
            _abort(context, method, exc)

    return call
