"""Domain errors raised by services and turned into pages by the error handlers."""


class EngageError(Exception):
    """Base class for errors a user can be told about."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(EngageError):
    """The input breaks a business rule."""

    status_code = 400


class NotFound(EngageError):
    """The thing asked for does not exist (or the actor may not know it does)."""

    status_code = 404


class Conflict(EngageError):
    """The request conflicts with the current state."""

    status_code = 409


class PermissionDenied(EngageError):
    """The actor may not do this."""

    status_code = 403
