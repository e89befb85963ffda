"""Every answer shape in API.md, served over HTTP, maps to the right error with the API's words."""

from __future__ import annotations

import pickle

import pytest

from keitaro_api import (
    ApiError,
    AuthError,
    BadRequest,
    BadResponse,
    CloudflareBlocked,
    EditionError,
    KeitaroClient,
    KeitaroError,
    NotAnApiResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Tracker,
    ValidationError,
    parse_response,
)
from tests.fakes import tracker as shapes
from tests.fakes.tracker import FakeTracker, Fault

from .conftest import API_KEY


@pytest.mark.parametrize(
    ("fault", "error_class", "status", "message"),
    [
        (shapes.BAD_REQUEST, BadRequest, 400, "Invalid value for field 'state'"),
        (shapes.UNAUTHORIZED, AuthError, 401, "Unauthorized"),
        (
            shapes.EDITION_NOT_SUPPORTED,
            EditionError,
            402,
            "Admin API is not available in that edition",
        ),
        (shapes.FORBIDDEN, PermissionDenied, 403, "You have no permission to access this page"),
        (shapes.CLOUDFLARE_1010, CloudflareBlocked, 403, "Error 1010: Access denied"),
        (shapes.NOT_FOUND_TEXT, NotFound, 404, "Traffic\\Model\\Campaign #42 not found"),
        (shapes.NOT_FOUND_JSON, NotFound, 404, "Not found"),
        (shapes.VALIDATION_406, ValidationError, 406, "alias: Alias has already used"),
        (
            shapes.VALIDATION_422,
            ValidationError,
            422,
            "alias: Alias has already used; name: Name is required",
        ),
        (shapes.SERVER_ERROR, ServerError, 500, "Internal server error: SQLSTATE[HY000] [2002]"),
    ],
)
async def test_api_errors_carry_the_api_message_and_status(
    fake: FakeTracker,
    tracker: Tracker,
    client: KeitaroClient,
    fault: Fault,
    error_class: type[KeitaroError],
    status: int,
    message: str,
) -> None:
    fake.fail_with(fault)
    with pytest.raises(error_class) as caught:
        await client.get_campaign(tracker, 1)
    error = caught.value
    assert type(error) is error_class
    assert (error.status, error.message, str(error)) == (status, message, message)
    assert repr(error) == f"{error_class.__name__}(status={status}, message={message!r})"
    assert error.request is not None
    assert error.request.url == f"{fake.url}/admin_api/v1/campaigns/1"


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        (shapes.BAD_GATEWAY_HTML, 502),
        (shapes.SERVICE_UNAVAILABLE_HTML, 503),
        (shapes.GATEWAY_TIMEOUT_HTML, 504),
        (shapes.ADMIN_PAGE_OK, 200),
        (
            Fault(500, "\ufeff  <html><body>Fatal error</body></html>", content_type="text/plain"),
            500,
        ),
    ],
)
async def test_web_pages_are_not_an_api_response_and_never_quoted(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient, fault: Fault, status: int
) -> None:
    fake.fail_with(fault)
    with pytest.raises(NotAnApiResponse) as caught:
        await client.list_campaigns(tracker)
    error = caught.value
    assert error.status == status
    assert error.message.startswith(f"HTTP {status}: the tracker answered with a web page")
    assert "<" not in error.message and "nginx" not in error.message


async def test_a_wrong_base_url_serving_the_admin_page_is_reported(client: KeitaroClient) -> None:
    async with FakeTracker(API_KEY) as fake:
        # The user gave a path prefix that does not exist: the tracker answers its admin page.
        wrong = Tracker.from_user_input(fake.url + "/keitaro", API_KEY)
        with pytest.raises(NotAnApiResponse, match="check the URL") as caught:
            await client.check_key(wrong)
    assert caught.value.status == 200
    assert fake.requests[0].path == "/keitaro/admin_api/v1/campaigns"


async def test_cloudflare_html_page_is_cloudflare_blocked(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.fail_with(shapes.CLOUDFLARE_1010_HTML)
    with pytest.raises(CloudflareBlocked) as caught:
        await client.list_campaigns(tracker)
    assert caught.value.status == 403
    assert caught.value.message.startswith("Error 1010: ")
    assert "banned" not in caught.value.message  # the page text is not quoted


async def test_wrong_key_is_auth_error_from_the_real_auth_check(
    fake: FakeTracker, client: KeitaroClient
) -> None:
    wrong = Tracker.from_user_input(fake.url, "another-key-0123456789")
    with pytest.raises(AuthError, match=r"^Unauthorized$") as caught:
        await client.check_key(wrong)
    assert caught.value.status == 401


async def test_rate_limited_carries_retry_after(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.fail_with(429, {"error": "Too many requests"}, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as caught:
        await client.list_campaigns(tracker)
    assert (caught.value.status, caught.value.retry_after) == (429, 7.0)
    assert caught.value.message == "Too many requests"


async def test_unknown_4xx_is_an_api_error_with_the_status(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.fail_with(409, "")
    with pytest.raises(ApiError) as caught:
        await client.list_campaigns(tracker)
    assert type(caught.value) is ApiError
    # The status travels separately; the reply puts "HTTP 409:" in front of the message once.
    assert caught.value.message == "Conflict" and caught.value.status == 409


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(200, "{not json"), "not valid JSON"),
        (Fault(200, ""), "empty answer"),
        (Fault(200, b"\xff\xfe{}"), "not valid JSON"),
        (Fault(200, {"campaigns": []}), "expected a list of campaigns, got an object"),
        (Fault(200, [{"id": "one"}]), "0.id"),
        (Fault(200, [{"id": 1, "postbacks": [{"id": 5, "url": 17}]}]), "0.postbacks.0.url"),
        (Fault(200, [{"id": 1, "postbacks": "none"}]), "0.postbacks"),
    ],
)
async def test_bad_json_or_wrong_shapes_are_bad_response(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient, fault: Fault, message: str
) -> None:
    fake.fail_with(fault)
    with pytest.raises(BadResponse, match=message) as caught:
        await client.list_campaigns(tracker)
    assert caught.value.request is not None


async def test_wrong_shape_of_a_single_campaign(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.fail_with(200, [1, 2], path="/campaigns/1")
    with pytest.raises(BadResponse, match="expected a campaign, got a list"):
        await client.get_campaign(tracker, 1)


async def test_a_bad_response_never_quotes_the_campaign_token(
    fake: FakeTracker, tracker: Tracker, client: KeitaroClient
) -> None:
    fake.fail_with(200, [{"id": "x", "token": "click-token-do-not-leak"}])
    with pytest.raises(BadResponse) as caught:
        await client.list_campaigns(tracker)
    assert "click-token-do-not-leak" not in f"{caught.value} {caught.value!r}"


def test_messages_are_one_clean_line_of_bounded_length() -> None:
    body = ("line one\r\nline\x00two\t" + "x" * 1000).encode()
    with pytest.raises(ServerError) as caught:
        parse_response(500, {"Content-Type": "text/plain"}, body)
    message = caught.value.message
    assert message.startswith("line one line two x")
    assert len(message) <= 300 and message.endswith("…")
    assert not any(ord(char) < 32 for char in message)


def test_errors_survive_pickling_with_their_fields() -> None:
    error = RateLimited("slow down", retry_after=3.0)
    clone = pickle.loads(pickle.dumps(error))
    assert (type(clone), clone.message, clone.status, clone.retry_after) == (
        RateLimited,
        "slow down",
        429,
        3.0,
    )
