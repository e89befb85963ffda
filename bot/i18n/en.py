"""English texts. Keys and placeholders must match ru.py (a test checks)."""

TEXTS: dict[str, object] = {
    # /start and /help
    "help": (
        "<b>Keitaro postback lookup</b>\n"
        "I look up S2S postbacks on your Keitaro tracker.\n"
        "\n"
        "/postback &lt;id&gt; — show a postback: campaign, method, statuses, URL\n"
        "/connect &lt;tracker-url&gt; &lt;api-key&gt; — connect this chat to a tracker\n"
        "/status — which tracker this chat uses\n"
        "/disconnect — forget this chat's tracker and key\n"
        "/language — the language I answer in here\n"
        "/cancel — stop connecting a group in a private chat\n"
        "/help — this message\n"
        "\n"
        "<b>Example</b>\n"
        "<code>/connect https://tracker.example.com YOUR_API_KEY</code>\n"
        "<code>/postback 42</code>\n"
        "\n"
        "The API key is in Keitaro under Maintenance → Users → API keys. "
        "Each chat has its own connection; in a group only admins can connect or disconnect, "
        "and everyone can look postbacks up. I delete the message that holds the key."
    ),
    "access.private": (
        "This bot is private: it serves only the chats its operator allowed. "
        "To use it here, ask the operator to add this chat's id, <code>{chat_id}</code>."
    ),
    "commands.postback": "Show a postback by id",
    "commands.connect": "Connect this chat to a Keitaro tracker",
    "commands.status": "Show this chat's tracker",
    "commands.disconnect": "Forget this chat's tracker and key",
    "commands.help": "How to use the bot",
    "commands.language": "Choose the bot's language in this chat",
    # /language
    "language.name": "English",
    "language.auto": "each user's Telegram language",
    "language.auto_button": "Auto",
    "language.current": (
        "Language in this chat: {current}. Choose another, or type <code>/language en</code>, "
        "<code>/language ru</code> or <code>/language auto</code>."
    ),
    "language.usage": (
        "Usage: <code>/language en</code>, <code>/language ru</code>, or "
        "<code>/language auto</code> to answer everyone in their own Telegram language. "
        "<code>/language</code> alone shows buttons."
    ),
    "language.admins_only": "Only admins of this group can change its language.",
    "language.set": "From now on I answer in English in this chat.",
    "language.auto_set": (
        "From now on I answer everyone in this chat in their own Telegram language."
    ),
    "commands.cancel": "Stop connecting a group",
    # /postback
    "postback.usage": (
        "Usage: <code>/postback &lt;id&gt;</code>, where id is a whole number "
        "from 1 to {max_id}. Example: <code>/postback 42</code>"
    ),
    "postback.not_connected": (
        "This chat is not connected to a tracker yet. Connect it with "
        "<code>/connect &lt;tracker-url&gt; &lt;api-key&gt;</code>."
    ),
    "postback.not_connected_group": (
        "This group is not connected to a tracker yet. A group admin can connect it with "
        "<code>/connect &lt;tracker-url&gt; &lt;api-key&gt;</code>."
    ),
    "postback.not_found": "Postback {id} not found on {tracker}.",
    "postback.title": "<b>Postback #{id} · {campaign}</b>",
    "postback.title_unnamed": "<b>Postback #{id}</b>",
    "postback.campaign": "Campaign: #{campaign_id}, {state}",
    "postback.method": "Method: {method}",
    "postback.statuses": "Statuses: {statuses}",
    "postback.no_statuses": "none",
    "postback.url": "URL:",
    "postback.no_url": "URL: (empty)",
    "postback.url_part": "URL, part {part} of {parts}:",
    "postback.tracker": "Tracker: {tracker}",
    "postback.unknown": "unknown",
    # buttons under a postback reply, and what a press answers
    "button.refresh": "Refresh",
    "button.retry": "Retry",
    "button.details": "Details",
    "button.refreshed": "Updated from the tracker.",
    "button.up_to_date": "Up to date: nothing has changed on the tracker.",
    "button.unknown": "This button does not work any more. Send the command again.",
    "button.wrong_chat": "This button belongs to another chat; it does nothing here.",
    "details.title": "<b>Postback #{id}: the full record</b>",
    # /connect
    "connect.usage": (
        "Usage: <code>/connect &lt;tracker-url&gt; &lt;api-key&gt;</code>\n"
        "Example: <code>/connect https://tracker.example.com YOUR_API_KEY</code>"
    ),
    "connect.admins_only": (
        "Only admins of this group can connect or disconnect a tracker. "
        "Anyone can use /postback once an admin has connected one."
    ),
    "connect.bad_url": "That tracker address does not work: {reason}. Nothing was saved.",
    "connect.bad_key": (
        "That API key cannot be right: a Keitaro key has only Latin letters, digits and "
        "punctuation, without spaces. Nothing was saved."
    ),
    "connect.no_address": "it is not a web address, e.g. https://tracker.example.com",
    "connect.https_guessed": (
        "The address had no scheme, so I used https://; if the tracker has no HTTPS, "
        "write http:// explicitly."
    ),
    "connect.rejected": "Could not connect to the tracker. {error}\nNothing was saved.",
    "connect.done": (
        "Connected this chat to {tracker}.\nKey: <code>{key}</code> · {campaigns} on the tracker."
    ),
    "connect.deleted": "I deleted your message with the key.",
    "connect.not_deleted": (
        "I could not delete your message with the key: delete it yourself, "
        "and if others could see it, rotate the key in Keitaro."
    ),
    "connect.insecure_refused": (
        "I do not connect to trackers without checking their TLS certificate here: the bot's "
        "operator has not allowed it (KEITARO_ALLOW_UNVERIFIED_TLS). Nothing was saved."
    ),
    "connect.insecure_hint": (
        "If the tracker has a self-signed certificate and you trust it, connect without "
        "checking it: <code>/connect &lt;tracker-url&gt; &lt;api-key&gt; insecure</code>"
    ),
    "connect.not_deleted_group": (
        "I could not delete your message with the key (I need the admin right to delete "
        "messages). Everyone here has seen it: delete it and rotate the key in Keitaro."
    ),
    "campaigns": {"one": "{n} campaign", "other": "{n} campaigns"},
    # /connect without arguments in a group: setting it up in a private chat
    "setup.offer": (
        "To connect this group without showing the API key here, tap the button: it opens a "
        "private chat with me, where you send the tracker address and the key. The link works "
        "once, only for you, for {minutes} min."
    ),
    "setup.button": "Connect in a private chat",
    "setup.anonymous": (
        "You are posting as the group, so I cannot tell which admin you are and cannot give "
        "you a private link. Post as yourself and send /connect again, or connect right here "
        "with <code>/connect &lt;tracker-url&gt; &lt;api-key&gt;</code> (I delete that message "
        "at once)."
    ),
    "setup.started": (
        "Connecting the group <b>{group}</b>. Send the tracker address and the API key in one "
        "message, e.g. <code>https://tracker.example.com YOUR_API_KEY</code>, or one after the "
        "other. I delete the message with the key. /cancel stops the setup."
    ),
    "setup.link_unknown": (
        "This setup link does not work: it is incomplete, or I was restarted since it was made. "
        "A group admin gets a new one by sending /connect in the group."
    ),
    "setup.link_not_yours": (
        "This setup link was made for another admin and works only for them. "
        "A group admin gets their own link by sending /connect in the group."
    ),
    "setup.link_used": (
        "This setup link was already used: each link works once. "
        "Send /connect in the group for a new one."
    ),
    "setup.link_expired": (
        "This setup link has expired (a link works for {minutes} min). "
        "Send /connect in the group for a new one."
    ),
    "setup.timed_out": (
        "The setup of <b>{group}</b> timed out and nothing was saved. "
        "Send /connect in the group for a new link."
    ),
    "setup.need_key": "Got the tracker address. Now send the API key.",
    "setup.need_url": "Got the key. Now send the tracker address, e.g. https://tracker.example.com",
    "setup.usage": (
        "Send the tracker address and the API key, separated by a space: "
        "<code>https://tracker.example.com YOUR_API_KEY</code>. /cancel stops the setup."
    ),
    "setup.retry": "Send the address and the key again, or /cancel.",
    "setup.not_admin": (
        "You are no longer an admin of <b>{group}</b>, so you cannot connect it. Nothing was saved."
    ),
    "setup.group_unreachable": (
        "I cannot check your rights in <b>{group}</b>: I may have been removed from it. "
        "Nothing was saved."
    ),
    "setup.done": (
        "Connected the group <b>{group}</b> to {tracker}.\n"
        "Key: <code>{key}</code> · {campaigns} on the tracker."
    ),
    "setup.group_note": (
        "{who} connected this group to {tracker}. Everyone here can use /postback now."
    ),
    "setup.cancelled": "Stopped connecting <b>{group}</b>. Nothing was saved.",
    "setup.nothing_to_cancel": "There is nothing to cancel.",
    # /status and /disconnect
    "status.none": "This chat is not connected to a tracker. Use /connect to connect it.",
    "status.connected": (
        "Tracker: {tracker}\nKey: <code>{key}</code>\nConnected by {who} on {when} UTC"
    ),
    "status.tls_unverified_refused": (
        "⚠️ This chat was connected with <code>insecure</code>, but the operator no longer allows "
        "unchecked TLS certificates: lookups fail until an admin connects again with a tracker "
        "certificate that verifies."
    ),
    "error.key_unreadable": (
        "I cannot read this chat's stored API key: the bot's encryption key was changed. "
        "Ask whoever runs the bot, or connect again with /connect."
    ),
    "unknown.command": "I only answer commands; /help lists them.",
    "status.anonymous_admin": "an anonymous admin",
    "status.tls_unverified": (
        "⚠️ The tracker's TLS certificate is not checked (connected with <code>insecure</code>): "
        "whoever can intercept the connection can read the API key."
    ),
    "disconnect.done": "Disconnected from {tracker}. The key is deleted from my storage.",
    "disconnect.none": "This chat has no tracker connected; nothing to forget.",
    # tracker errors: one line naming the cause
    "error.api": "The tracker answered HTTP {status}: {message}",
    "error.auth": "The tracker answered HTTP {status}: {message}. Check the API key.",
    "error.cloudflare": (
        "Cloudflare in front of the tracker blocked the request (HTTP {status}: {message}). "
        "Ask whoever runs the tracker to allow the bot."
    ),
    "error.web_page": (
        "The tracker answered HTTP {status} with a web page instead of the API: "
        "check the tracker URL."
    ),
    "error.server_page": (
        "The tracker's server answered HTTP {status} with an error page: the tracker may be "
        "down or restarting. Try again later."
    ),
    "error.bad_response": "The tracker sent a response I cannot read: {message}",
    "error.too_large": "The tracker's response is too large to read.",
    "error.redirect": (
        "The tracker redirected (HTTP {status}) to {location}. I do not follow redirects "
        "with your key: connect with the final address."
    ),
    "error.forbidden_address": (
        "I do not connect to that address: {message}. Private and local addresses are not allowed."
    ),
    "error.timeout": (
        "The tracker did not answer within {seconds} s. It may be down or overloaded; "
        "try again later."
    ),
    "cause.tls_verify": "TLS certificate verification failed",
    "cause.tls_handshake": "TLS handshake failed",
    "cause.host_not_found": "host not found",
    "cause.refused": "connection refused",
    "cause.unreachable": "host unreachable",
    "cause.could_not_connect": "could not connect",
    "cause.reset": "connection reset",
    "cause.broke": "the connection broke while reading the answer",
    "cause.malformed": "malformed HTTP answer",
    "cause.invalid_address": "invalid address",
    "error.transport": "Could not reach the tracker: {message}.",
    "error.internal": "Something went wrong on my side. It is logged; please try again.",
}
