"""core/aws: an AWS failure in one line with the next step, by what went wrong: no credentials, an endpoint
out of reach, a permission refused (operation failures, exit 1) or a thing that is not there (bad input,
exit 2, with the hint the caller gives)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from mandala_db.core.aws import aws_failure, error_code, is_missing
from mandala_db.core.errors import BadInput, OperationFailed


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "GetObject")


def test_no_credentials_says_where_credentials_come_from() -> None:
    failure = aws_failure(NoCredentialsError(), "uploading s3://b/k")
    assert isinstance(failure, OperationFailed)
    assert failure.message == "uploading s3://b/k failed: no AWS credentials were found"
    assert "AWS_ACCESS_KEY_ID" in (failure.hint or "")


def test_an_unreachable_endpoint_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    failure = aws_failure(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "listing s3://b/")
    assert (
        failure.message
        == "listing s3://b/ failed: http://127.0.0.1:1 cannot be reached (EndpointConnectionError)"
    )


@pytest.mark.parametrize("code", ["AccessDenied", "403", "SignatureDoesNotMatch", "ExpiredToken"])
def test_a_refusal_is_a_permission_problem(code: str) -> None:
    failure = aws_failure(client_error(code), "downloading s3://b/k")
    assert isinstance(failure, OperationFailed) and failure.message.endswith(f"permission denied ({code})")


@pytest.mark.parametrize("code", ["NoSuchKey", "404", "NoSuchBucket"])
def test_a_missing_thing_is_bad_input_with_the_callers_hint(code: str) -> None:
    assert is_missing(client_error(code)) and error_code(client_error(code)) == code
    failure = aws_failure(
        client_error(code), "downloading s3://b/k", missing_hint="run `restore list --from s3://b/`"
    )
    assert isinstance(failure, BadInput) and failure.exit_code == 2
    assert failure.hint == "run `restore list --from s3://b/`"


def test_anything_else_keeps_its_own_words() -> None:
    assert error_code(ValueError("x")) == "" and not is_missing(ValueError("x"))
    failure = aws_failure(client_error("SlowDown"), "uploading s3://b/k")
    assert isinstance(failure, OperationFailed) and "SlowDown" in failure.message
