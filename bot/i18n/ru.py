"""Русские тексты. Ключи и подстановки совпадают с en.py (это проверяет тест)."""

TEXTS: dict[str, object] = {
    "help": (
        "<b>Поиск постбэков Keitaro</b>\n"
        "Я показываю S2S-постбэки из вашего трекера Keitaro.\n"
        "\n"
        "/postback &lt;id&gt; — показать постбэк: кампания, метод, статусы, URL\n"
        "/connect &lt;адрес-трекера&gt; &lt;api-ключ&gt; — подключить этот чат к трекеру\n"
        "/status — какой трекер подключён к чату\n"
        "/disconnect — забыть трекер и ключ этого чата\n"
        "/help — эта справка\n"
        "\n"
        "<b>Пример</b>\n"
        "<code>/connect https://tracker.example.com ВАШ_API_КЛЮЧ</code>\n"
        "<code>/postback 42</code>\n"
        "\n"
        "API-ключ есть в Keitaro: Обслуживание → Пользователи → API-ключи. "
        "У каждого чата своё подключение; в группе подключать и отключать трекер могут только "
        "админы, а искать постбэки — все. Сообщение с ключом я удаляю."
    ),
    "access.private": (
        "Это частный бот: он работает только в чатах, которые разрешил его владелец. "
        "Чтобы пользоваться им здесь, попросите владельца добавить id этого чата: "
        "<code>{chat_id}</code>."
    ),
    "commands.postback": "Показать постбэк по id",
    "commands.connect": "Подключить чат к трекеру Keitaro",
    "commands.status": "Какой трекер подключён",
    "commands.disconnect": "Забыть трекер и ключ чата",
    "commands.help": "Как пользоваться ботом",
    "postback.usage": (
        "Формат: <code>/postback &lt;id&gt;</code>, где id — целое число "
        "от 1 до {max_id}. Пример: <code>/postback 42</code>"
    ),
    "postback.not_connected": (
        "Этот чат ещё не подключён к трекеру. Подключите его: "
        "<code>/connect &lt;адрес-трекера&gt; &lt;api-ключ&gt;</code>."
    ),
    "postback.not_connected_group": (
        "Эта группа ещё не подключена к трекеру. Админ группы может подключить её: "
        "<code>/connect &lt;адрес-трекера&gt; &lt;api-ключ&gt;</code>."
    ),
    "postback.not_found": "Постбэк {id} не найден в трекере {tracker}.",
    "postback.title": "<b>Постбэк #{id} · {campaign}</b>",
    "postback.title_unnamed": "<b>Постбэк #{id}</b>",
    "postback.campaign": "Кампания: #{campaign_id}, {state}",
    "postback.method": "Метод: {method}",
    "postback.statuses": "Статусы: {statuses}",
    "postback.no_statuses": "нет",
    "postback.url": "URL:",
    "postback.no_url": "URL: (пусто)",
    "postback.url_part": "URL, часть {part} из {parts}:",
    "postback.tracker": "Трекер: {tracker}",
    "postback.unknown": "неизвестно",
    # кнопки под ответом о постбэке и ответы на нажатия
    "button.refresh": "Обновить",
    "button.retry": "Повторить",
    "button.details": "Подробности",
    "button.refreshed": "Обновлено из трекера.",
    "button.up_to_date": "Актуально: в трекере ничего не изменилось.",
    "button.unknown": "Эта кнопка больше не работает. Отправьте команду ещё раз.",
    "button.wrong_chat": "Эта кнопка из другого чата; здесь она ничего не делает.",
    "details.title": "<b>Постбэк #{id}: полная запись</b>",
    "connect.usage": (
        "Формат: <code>/connect &lt;адрес-трекера&gt; &lt;api-ключ&gt;</code>\n"
        "Пример: <code>/connect https://tracker.example.com ВАШ_API_КЛЮЧ</code>"
    ),
    "connect.admins_only": (
        "Подключать и отключать трекер в этой группе могут только её админы. "
        "Командой /postback может пользоваться любой участник, когда трекер подключён."
    ),
    "connect.bad_url": "С этим адресом трекера не получится: {reason}. Ничего не сохранено.",
    "connect.bad_key": (
        "Это не похоже на API-ключ: ключ Keitaro состоит из латинских букв, цифр и знаков "
        "препинания, без пробелов. Ничего не сохранено."
    ),
    "connect.no_address": "это не веб-адрес, пример: https://tracker.example.com",
    "connect.https_guessed": (
        "В адресе не было схемы, и я использовал https://; если у трекера нет HTTPS, "
        "укажите http:// явно."
    ),
    "connect.rejected": "Не удалось подключиться к трекеру. {error}\nНичего не сохранено.",
    "connect.done": (
        "Чат подключён к трекеру {tracker}.\nКлюч: <code>{key}</code> · в трекере {campaigns}."
    ),
    "connect.deleted": "Ваше сообщение с ключом я удалил.",
    "connect.not_deleted": (
        "Не получилось удалить ваше сообщение с ключом: удалите его сами, "
        "а если его могли видеть другие — смените ключ в Keitaro."
    ),
    "connect.not_deleted_group": (
        "Не получилось удалить сообщение с ключом (нужно право админа на удаление "
        "сообщений). Ключ видели все в группе: удалите сообщение и смените ключ в Keitaro."
    ),
    "campaigns": {"one": "{n} кампания", "few": "{n} кампании", "many": "{n} кампаний"},
    "status.none": "Этот чат не подключён к трекеру. Подключите его командой /connect.",
    "status.connected": (
        "Трекер: {tracker}\nКлюч: <code>{key}</code>\nПодключил(а) {who}, {when} UTC"
    ),
    "status.anonymous_admin": "анонимный админ",
    "disconnect.done": "Трекер {tracker} отключён. Ключ удалён из хранилища.",
    "disconnect.none": "К этому чату не подключён трекер, забывать нечего.",
    "error.api": "Трекер ответил HTTP {status}: {message}",
    "error.auth": "Трекер ответил HTTP {status}: {message}. Проверьте API-ключ.",
    "error.cloudflare": (
        "Cloudflare перед трекером заблокировал запрос (HTTP {status}: {message}). "
        "Попросите администратора трекера пропустить бота."
    ),
    "error.web_page": (
        "Трекер ответил HTTP {status} веб-страницей вместо API: проверьте адрес трекера."
    ),
    "error.server_page": (
        "Сервер трекера ответил HTTP {status} страницей ошибки: трекер может быть недоступен "
        "или перезапускается. Попробуйте позже."
    ),
    "error.bad_response": "Трекер прислал ответ, который я не могу прочитать: {message}",
    "error.too_large": "Ответ трекера слишком большой.",
    "error.redirect": (
        "Трекер перенаправил запрос (HTTP {status}) на {location}. С вашим ключом я не иду "
        "по перенаправлениям: подключитесь по конечному адресу."
    ),
    "error.forbidden_address": (
        "К этому адресу я не подключаюсь: {message}. Частные и локальные адреса запрещены."
    ),
    "error.timeout": (
        "Трекер не ответил за {seconds} с. Возможно, он недоступен или перегружен; "
        "попробуйте позже."
    ),
    "error.transport": "Не удалось связаться с трекером: {message}.",
    "error.internal": "У меня что-то пошло не так. Ошибка записана в журнал; попробуйте ещё раз.",
}
