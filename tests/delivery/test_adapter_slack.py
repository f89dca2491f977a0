import orjson
import pytest

from delivery.adapters import adapter_for
from delivery.adapters.base import Unsupported, Verdict
from delivery.sender import send

HOOK_PATH = "/services/T0001/B0001/abcdefghijklmnop"
TRACK = {"type": "track", "messageId": "m-track", "userId": "user-42", "event": "Order Completed",
         "properties": {"total": 30, "item": "<Mug> & Co"},
         "context": {"traits": {"firstName": "Ada", "lastName": "Lovelace", "plan": "pro"}}}  # fmt: skip
IDENTIFY = {"type": "identify", "messageId": "m-identify", "userId": "user-42",
            "traits": {"name": "Ada Lovelace", "email": "ada@example.com", "plan": "pro",
                       "salary": 100}}  # fmt: skip


def slack(url="https://hooks.slack.com" + HOOK_PATH, **settings):
    return adapter_for("slack")({"webhookUrl": url, **settings})


def post(sink, adapter, message) -> dict:
    """Sends the message's one request to the sink and returns its JSON body."""
    (prepared,), unsupported = adapter.build([message])
    assert unsupported == []
    response = send(prepared)
    assert adapter.interpret(prepared, response.status, response.body).verdict == Verdict.DELIVERED
    (received,) = sink.received
    assert (received.method, received.path) == ("POST", HOOK_PATH)
    assert received.headers["content-type"] == "application/json"
    return orjson.loads(received.body)


def test_track_with_the_default_template(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    body = post(sink, slack(sink.url + HOOK_PATH), TRACK)
    assert body == {"text": "Ada Lovelace did Order Completed."}


def test_track_with_an_event_template_escapes_values_but_not_the_template(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    template = ("*{{ userId }}* ({{traits.plan}}) paid {{properties.total}} for {{properties.item}} "
                "<https://shop.example/orders|see orders>{{properties.missing}}")  # fmt: skip
    adapter = slack(sink.url + HOOK_PATH, eventTemplates={"Order Completed": template})
    body = post(sink, adapter, TRACK)
    assert body == {"text": "*user-42* (pro) paid 30 for &lt;Mug&gt; &amp; Co "
                            "<https://shop.example/orders|see orders>"}  # fmt: skip


def test_identify_with_the_default_template_lists_only_whitelisted_traits(sink, settings):
    settings.EGRESS_ALLOW_PRIVATE = True
    adapter = slack(sink.url + HOOK_PATH, whiteListedTraits=["email", "plan"])
    body = post(sink, adapter, IDENTIFY)
    assert body == {"text": "Identified Ada Lovelace.\nemail: ada@example.com\nplan: pro"}


def test_identify_template_sees_whitelisted_traits_at_the_top_level():
    adapter = slack(whiteListedTraits=["email"],
                    identifyTemplate="The user {{name}} has an email of {{email}}; {{salary}}"
                                     "{{traits.salary}}")  # fmt: skip
    (prepared,), _ = adapter.build([IDENTIFY])
    assert prepared.url == "https://hooks.slack.com" + HOOK_PATH
    assert orjson.loads(prepared.body) == {
        "text": "The user Ada Lovelace has an email of ada@example.com; "
    }


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"userId": "u1", "context": {"traits": {"username": "ada"}}}, "ada did E."),
        ({"userId": "u1", "properties": {"email": "p@example.com"},
          "context": {"traits": {"email": "t@example.com"}}}, "p@example.com did E."),
        ({"userId": "u1", "context": {"traits": {"email": "t@example.com"}}}, "t@example.com did E."),
        ({"userId": "u1"}, "User u1 did E."),
        ({"anonymousId": "a1"}, "Anonymous user a1 did E."),
    ],
)  # fmt: skip
def test_display_name_follows_segments_order(message, expected):
    (prepared,), _ = slack().build([{"type": "track", "messageId": "m", "event": "E", **message}])
    assert orjson.loads(prepared.body) == {"text": expected}


def test_placeholders_are_looked_up_never_evaluated():
    template = "{{__class__}}{{properties.__len__}}{{ properties.total }}{{properties}}{{x.y.z}}{{ bad key }}"
    (prepared,), _ = slack(eventTemplates={"Order Completed": template}).build([TRACK])
    assert orjson.loads(prepared.body) == {
        "text": "30total: 30\nitem: &lt;Mug&gt; &amp; Co{{ bad key }}"
    }


def test_unsupported_calls_and_their_reasons():
    adapter = slack(whiteListedTraits=["email", "phone"])
    others = [{"type": kind, "messageId": f"m-{kind}", "userId": "u1"}
              for kind in ("page", "screen", "group", "alias")]  # fmt: skip
    requests, unsupported = adapter.build([IDENTIFY, *others])
    assert requests == []
    assert unsupported == [
        Unsupported("m-identify", "identify call lacks whitelisted trait(s): phone"),
        *[Unsupported(f"m-{kind}", f"{kind} calls are not supported by Slack")
          for kind in ("page", "screen", "group", "alias")],
    ]  # fmt: skip
    _, unsupported = slack().build([IDENTIFY])
    assert unsupported == [Unsupported("m-identify", "identify calls are sent to Slack only when "
                                       "Whitelisted Traits are set")]  # fmt: skip
    _, unsupported = slack(url="").build([TRACK])
    assert unsupported == [Unsupported("m-track", "Slack needs the Incoming Webhook URL setting")]


def test_status_codes_map_to_verdicts():
    adapter = slack()
    (prepared,), _ = adapter.build([TRACK])
    # Slack's webhook errors: invalid_payload, action_prohibited, channel_not_found, ...
    verdicts = {
        status: adapter.interpret(prepared, status, b"channel_not_found").verdict
        for status in (200, 400, 403, 404, 410, 429, 500)
    }
    assert verdicts == {200: Verdict.DELIVERED, 400: Verdict.DISCARD, 403: Verdict.DISCARD,
                        404: Verdict.DISCARD, 410: Verdict.DISCARD, 429: Verdict.RETRY,
                        500: Verdict.RETRY}  # fmt: skip
