"""Errors a client caused, each with the code the GraphQL contract gives it."""


class TidingsError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadUserInput(TidingsError):
    code = "BAD_USER_INPUT"


class Unauthenticated(TidingsError):
    code = "UNAUTHENTICATED"


class NotFound(TidingsError):
    code = "NOT_FOUND"


class RateLimited(TidingsError):
    code = "RATE_LIMITED"
