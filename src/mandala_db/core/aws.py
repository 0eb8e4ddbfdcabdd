"""What an AWS call's failure means, in one line with the next step: no credentials, an endpoint that
cannot be reached, a permission refused, or a thing that is not there are different problems, and none of
them is "has no manifest" or an `unexpected error: NoCredentialsError`."""

from __future__ import annotations

import os

from mandala_db.core.errors import BadInput, MandalaError, OperationFailed

_DENIED = {"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
           "AccessDeniedException", "UnrecognizedClientException", "ExpiredToken", "InvalidClientTokenId"}  # fmt: skip
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket", "ResourceNotFoundException", "NoSuchUpload"}


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    return str((response or {}).get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def is_missing(exc: BaseException) -> bool:
    return error_code(exc) in _MISSING


def aws_failure(exc: BaseException, what: str, *, missing_hint: str | None = None) -> MandalaError:
    """`what` failed (e.g. "downloading s3://b/k"): the error to raise, by what went wrong."""
    name = type(exc).__name__
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "the AWS endpoint"
    if name in (
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "ProfileNotFound",
    ):
        return OperationFailed(
            f"{what} failed: no AWS credentials were found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or run where a role provides them",
        )
    if name in (
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    ):
        return OperationFailed(
            f"{what} failed: {endpoint} cannot be reached ({name})",
            "check AWS_ENDPOINT_URL, AWS_DEFAULT_REGION and the network",
        )
    code = error_code(exc)
    if code in _DENIED:
        return OperationFailed(
            f"{what} failed: permission denied ({code})",
            "check the credentials and what their IAM policy and the bucket policy allow",
        )
    if code in _MISSING:
        return BadInput(f"{what} failed: not found ({code})", missing_hint or "check the bucket and the key")
    return OperationFailed(f"{what} failed: {exc}")
