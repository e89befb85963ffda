import pytest
from pydantic import ValidationError

from keitaro_api import Campaign, Postback


def test_postback_coerces_harmless_variations() -> None:
    postback = Postback.model_validate(
        {"id": "42", "campaign_id": "1", "method": None, "url": None, "statuses": None}
    )
    assert (postback.id, postback.campaign_id, postback.method) == (42, 1, None)
    assert (postback.url, postback.statuses) == ("", [])
    assert Postback.model_validate({"id": 1, "url": "u", "statuses": "lead, sale"}).statuses == [
        "lead",
        "sale",
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"id": "forty-two", "url": "u"},
        {"id": 1.5, "url": "u"},
        {"id": 1, "url": 17},
        {"id": 1, "url": "u", "statuses": [1, 2]},
        {"url": "u"},
    ],
)
def test_postback_refuses_garbage(data: dict) -> None:
    with pytest.raises(ValidationError):
        Postback.model_validate(data)


def test_campaign_defaults_and_lookup() -> None:
    campaign = Campaign.model_validate(
        {"id": 3, "name": None, "postbacks": [{"id": 7, "url": "https://a.example/{status}"}]}
    )
    assert (campaign.name, campaign.alias, campaign.state, campaign.token) == ("", None, None, None)
    assert campaign.find_postback(7) is campaign.postbacks[0]
    assert campaign.find_postback(8) is None
