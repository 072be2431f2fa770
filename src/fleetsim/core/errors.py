"""The one error tree. Rules raise these; one handler renders them as Twilio does:
`{"code", "message", "more_info", "status"}`.

    TwilioError                      (status, code, message)
    ├── BadRequest                   400
    │   ├── MissingParameter         400 / 20001 (or a resource's own code, e.g. 83001)
    │   ├── InvalidParameter         400 / 20001
    │   ├── InvalidPageToken         400 / 21481
    │   └── SuperSimError            400 / 83xxx business rules (subclasses below)
    ├── AuthenticationFailed         401 / 20003
    │   └── CredentialNotAccepted    401 / 20003 (a Bearer token where only Basic is taken)
    ├── TokenRequestRefused          400 or 401: OAuth 2.0's body, for the token endpoint
    ├── Forbidden                    403 / 20403
    ├── NotFound                     404 / 20404
    │   └── SimNotFound              404 / 83005 (a `Sim` parameter, not the path)
    ├── MethodNotAllowed             405 / 20004
    ├── Conflict                     409 / 20409
    ├── PayloadTooLarge              413 / 20413
    ├── UnsupportedMediaType         415 / 20415
    └── InternalError                500 / 20500 (a bug: never raised for bad input)

The body's `more_info` points at the documentation of the request's dialect
(`fleetsim.core.dialect`): Twilio's, or KORE's for Bearer requests.

Deviation: Twilio does not document the HTTP status of its 83xxx codes; following the
behaviour reference, they answer 400.
"""

from __future__ import annotations

from typing import Any

from fleetsim.core.dialect import Dialect

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "Conflict",
    "CredentialNotAccepted",
    "ESimProfilesOutOfStock",
    "Forbidden",
    "InternalError",
    "InvalidPageToken",
    "InvalidParameter",
    "MethodNotAllowed",
    "MissingParameter",
    "NotFound",
    "PayloadTooLarge",
    "SimActivationNeedsFleet",
    "SimAlreadyRegistered",
    "SimFleetChangeWhileScheduled",
    "SimFleetNotFound",
    "SimFleetRequired",
    "SimNotFound",
    "SimNotRegistrable",
    "SimRegistrationParameterMissing",
    "SimStatusChangeRefused",
    "SimUniqueNameTaken",
    "SuperSimError",
    "TokenRequestRefused",
    "TwilioError",
    "UnsupportedMediaType",
    "UsageRecordsInvalidParameter",
    "UsageRecordsNotDayAligned",
    "UsageRecordsNotHourAligned",
    "UsageRecordsPeriodTooLong",
    "UsageRecordsSimGroupTooLong",
    "UsageRecordsStartTooOld",
]


class TwilioError(Exception):
    status: int = 500
    code: int = 20500

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details

    def body(self, dialect: Dialect = Dialect.TWILIO) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "more_info": dialect.more_info.format(code=self.code),
            "status": self.status,
        }
        if self.details:
            body["details"] = self.details
        return body

    def management_body(self) -> dict[str, Any]:
        """The body of KORE's management APIs (webhook secrets, API clients): their specs'
        `ApiErrorResponse` and `Error`, with `info` where the Super SIM API has
        `more_info`, on KORE's documentation."""
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "info": Dialect.KORE.more_info.format(code=self.code),
        }


class BadRequest(TwilioError):
    status = 400
    code = 20001


class MissingParameter(BadRequest):
    def __init__(self, name: str, *, code: int | None = None) -> None:
        super().__init__(f"Missing required parameter {name} in the post body", code=code)
        self.parameter = name


class InvalidParameter(BadRequest):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Invalid parameter {name}: {reason}")
        self.parameter = name
        self.reason = reason


class InvalidPageToken(BadRequest):
    code = 21481

    def __init__(self) -> None:
        super().__init__("Invalid PageToken: use the next_page_url or previous_page_url given")


class AuthenticationFailed(TwilioError):
    status = 401
    code = 20003

    def __init__(self) -> None:
        super().__init__("Authenticate")


class CredentialNotAccepted(AuthenticationFailed):
    """A Bearer token sent to an API that keeps its own (Basic) authentication."""

    def __init__(self, detail: str) -> None:
        TwilioError.__init__(self, f"Authenticate: {detail}")


class TokenRequestRefused(TwilioError):
    """The token endpoint's refusal, in OAuth 2.0's shape (RFC 6749 §5.2) with the
    `code` and `message` of KORE's token spec beside it."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description, status=status, code=20003 if status == 401 else 20001)
        self.error = error

    def body(self, dialect: Dialect = Dialect.KORE) -> dict[str, Any]:
        return {
            "error": self.error,
            "error_description": self.message,
            "code": self.code,
            "message": self.message,
        }


class Forbidden(TwilioError):
    status = 403
    code = 20403


class NotFound(TwilioError):
    status = 404
    code = 20404

    def __init__(self, path: str) -> None:
        super().__init__(f"The requested resource {path} was not found")


class SimNotFound(NotFound):
    """A `Sim` parameter (not the path) names no Super SIM of the account."""

    code = 83005

    def __init__(self, ref: str) -> None:
        TwilioError.__init__(self, f"Super SIM not found: no Super SIM of this account is '{ref}'")


class MethodNotAllowed(TwilioError):
    status = 405
    code = 20004

    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"Method {method} not allowed on {path}")


class Conflict(TwilioError):
    status = 409
    code = 20409


class PayloadTooLarge(TwilioError):
    status = 413
    code = 20413


class UnsupportedMediaType(TwilioError):
    status = 415
    code = 20415


class InternalError(TwilioError):
    status = 500
    code = 20500


class SuperSimError(BadRequest):
    """A Super SIM business rule (83xxx); the code says which."""


class SimRegistrationParameterMissing(SuperSimError):
    code = 83001

    def __init__(self, name: str) -> None:
        super().__init__(f"Parameter missing while registering a Super SIM: {name}")
        self.parameter = name


class SimNotRegistrable(SuperSimError):
    code = 83002

    def __init__(self) -> None:
        super().__init__(
            "Super SIM cannot be registered: the Iccid and RegistrationCode do not match a "
            "Super SIM that can be registered. Check both values printed on the card."
        )


class SimAlreadyRegistered(SuperSimError):
    code = 83003

    def __init__(self, sim_sid: str) -> None:
        super().__init__(f"The Super SIM already belongs to the requesting Account: {sim_sid}")


class SimFleetNotFound(SuperSimError):
    code = 83006

    def __init__(self, ref: str) -> None:
        super().__init__(f"Super SIM's Target Fleet not found: {ref}")


class SimActivationNeedsFleet(SuperSimError):
    code = 83007

    def __init__(self) -> None:
        super().__init__(
            "Unable to activate your Super SIM as it does not belong to a Fleet. "
            "Assign a Fleet first, or pass Fleet in the same request."
        )


class SimFleetRequired(SuperSimError):
    code = 83008

    def __init__(self) -> None:
        super().__init__(
            "Unable to remove your Super SIM from its Fleet: a ready or active Super SIM must "
            "belong to a Fleet unless the same request sets Status=inactive."
        )


class SimFleetChangeWhileScheduled(SuperSimError):
    code = 83009

    def __init__(self) -> None:
        super().__init__(
            "Unable to update your Super SIM's Fleet while it is in status scheduled. "
            "Retry once the pending update has completed."
        )


class SimStatusChangeRefused(SuperSimError):
    code = 83010

    def __init__(self, detail: str) -> None:
        super().__init__(f"Unable to update your Super SIM to the desired status: {detail}")


class SimUniqueNameTaken(SuperSimError):
    code = 83011

    def __init__(self, unique_name: str) -> None:
        super().__init__(
            f"A Super SIM with the specified Unique Name exists already: {unique_name}"
        )


class UsageRecordsInvalidParameter(SuperSimError):
    code = 83600

    def __init__(self, detail: str) -> None:
        super().__init__(f"An invalid parameter value was passed to the API: {detail}")


class UsageRecordsNotDayAligned(SuperSimError):
    code = 83601

    def __init__(self) -> None:
        super().__init__(
            "Request StartTime and/or EndTime must be aligned to UTC day boundaries "
            "(e.g. 2024-05-01T00:00:00Z) when Granularity is day"
        )


class UsageRecordsNotHourAligned(SuperSimError):
    code = 83602

    def __init__(self) -> None:
        super().__init__(
            "Request StartTime and/or EndTime must be aligned to UTC hour boundaries "
            "(e.g. 2024-05-01T13:00:00Z) when Granularity is hour"
        )


class UsageRecordsSimGroupTooLong(SuperSimError):
    code = 83603

    def __init__(self) -> None:
        super().__init__("The maximum allowed query period is 31 days for group by sim queries")


class UsageRecordsPeriodTooLong(SuperSimError):
    code = 83604

    def __init__(self, granularity: str, limit: str) -> None:
        super().__init__(
            "The requested query period exceeds the maximum allowed period for the requested "
            f"Granularity: at most {limit} for Granularity {granularity}"
        )


class UsageRecordsStartTooOld(SuperSimError):
    code = 83605

    def __init__(self, oldest: str) -> None:
        super().__init__(
            "StartTime parameter is too far in the past. It must be within the last 18 months "
            f"(not before {oldest})."
        )


class ESimProfilesOutOfStock(SuperSimError):
    code = 83500

    def __init__(self) -> None:
        super().__init__(
            "No eSIM Profiles are available: the SM-DP+ has none left to reserve. "
            "Try again once more are in stock."
        )
