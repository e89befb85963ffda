"""Pydantic models of what the Admin API returns, and of the requests the client makes.

Unknown fields are kept (``extra="allow"``) so nothing the tracker sends is lost, but secrets
never reach a repr, ``str`` or ``model_dump``: a campaign's Click API ``token`` is a
:class:`~pydantic.SecretStr`, and a :class:`RequestRecord` stores its headers already masked.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from keitaro_api.redact import ELLIPSIS, mask_key

__all__ = ["Campaign", "Postback", "PostbackLookup", "RequestRecord"]

# Header names (lower case) whose values are credentials.
SECRET_HEADERS = frozenset({"api-key", "authorization"})


class Postback(BaseModel):
    """A campaign's S2S postback: where the tracker sends conversions, with ``{macros}``."""

    model_config = ConfigDict(extra="allow")

    id: int
    campaign_id: int | None = None
    method: str | None = None
    url: str
    statuses: list[str] = Field(default_factory=list)

    @field_validator("url", mode="before")
    @classmethod
    def _url_null_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("statuses", mode="before")
    @classmethod
    def _statuses_null_is_empty(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):  # "lead,sale": harmless to read as the list it means
            return [status.strip() for status in value.split(",") if status.strip()]
        return value


class Campaign(BaseModel):
    """A campaign with its postbacks. ``token`` (the Click API secret) is never shown."""

    model_config = ConfigDict(extra="allow")

    id: int
    name: str = ""
    alias: str | None = None
    state: str | None = None
    postbacks: list[Postback] = Field(default_factory=list)
    token: SecretStr | None = Field(default=None, repr=False)

    @field_validator("name", mode="before")
    @classmethod
    def _name_null_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("postbacks", mode="before")
    @classmethod
    def _postbacks_null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("token", mode="before")
    @classmethod
    def _token_as_text(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, str | SecretStr) else str(value)

    def find_postback(self, postback_id: int) -> Postback | None:
        """This campaign's postback with that id, if it holds one."""
        return next((postback for postback in self.postbacks if postback.id == postback_id), None)


class RequestRecord(BaseModel):
    """What the client sent, safe to show and log: credential headers are masked on creation."""

    model_config = ConfigDict(frozen=True)

    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("headers")
    @classmethod
    def _mask_credentials(cls, headers: dict[str, str]) -> dict[str, str]:
        return {
            name: _mask_header(value) if name.lower() in SECRET_HEADERS else value
            for name, value in headers.items()
        }


def _mask_header(value: str) -> str:
    if ELLIPSIS in value:  # already masked: masking again would only hide more
        return value
    scheme, _, credentials = value.partition(" ")
    if credentials and scheme.lower() == "bearer":
        return f"{scheme} {mask_key(credentials)}"
    return mask_key(value)


class PostbackLookup(BaseModel):
    """A found postback, its campaign and the request that fetched them."""

    model_config = ConfigDict(frozen=True)

    postback: Postback
    campaign: Campaign
    request: RequestRecord
    from_index: bool
    """True when the postback index pointed at the campaign and one small request answered."""
