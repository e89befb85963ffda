"""Say something to the bot through a standalone fake Bot API and print its replies.

    python -m tests.fakes.bot_api --port 8081 &
    TELEGRAM_API_BASE_URL=http://127.0.0.1:8081/bot python -m bot &
    python -m tests.fakes.say "/postback 42"

Exit code 0 when the bot replied within --timeout seconds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

# After the first reply, how long to wait for the bot's follow-up messages.
FOLLOW_UP_SECONDS = 1.0


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _sent(base: str, chat_id: int, after: int, wait: float) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"chat_id": chat_id, "after": after, "wait": wait})
    with urllib.request.urlopen(f"{base}/_control/sent?{query}", timeout=wait + 10) as response:
        messages: list[dict[str, Any]] = json.load(response)["messages"]
        return messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Send a message to the bot via the fake API.")
    parser.add_argument("text")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--user-id", type=int, default=1001)
    parser.add_argument("--chat-id", type=int, help="defaults to the user's private chat")
    parser.add_argument("--chat-type", choices=["private", "group", "supergroup"])
    parser.add_argument("--thread-id", type=int, help="forum topic (message_thread_id)")
    parser.add_argument("--language-code", default="en")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument(
        "--member-status",
        choices=["creator", "administrator", "member", "restricted", "left", "kicked"],
        help="what getChatMember says about the sender in this chat, e.g. administrator",
    )
    args = parser.parse_args(argv)

    chat_id = args.chat_id if args.chat_id is not None else args.user_id
    chat_type = args.chat_type or ("private" if chat_id > 0 else "supergroup")
    base = f"http://{args.host}:{args.port}"
    body: dict[str, Any] = {
        "chat_id": chat_id,
        "user_id": args.user_id,
        "text": args.text,
        "chat_type": chat_type,
        "language_code": args.language_code,
    }
    if args.thread_id is not None:
        body["message_thread_id"] = args.thread_id
    if args.member_status is not None:
        body["member_status"] = args.member_status
    try:
        sent = _post(f"{base}/_control/message", body)
        replies = _sent(base, chat_id, sent["message_id"], args.timeout)
        while replies:
            for reply in replies:
                print(reply["text"])
                print()
            last = replies[-1]["message_id"]
            replies = _sent(base, chat_id, last, FOLLOW_UP_SECONDS)
            if not replies:
                return 0
    except urllib.error.HTTPError as error:
        print(f"the fake Bot API refused the message: {error.read().decode()}", file=sys.stderr)
        return 2
    except urllib.error.URLError as error:
        print(f"can't reach the fake Bot API at {base}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # piped into head, which stopped reading
        return 0
    print(f"no reply within {args.timeout:g} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
