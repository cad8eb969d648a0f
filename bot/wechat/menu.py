"""The official account's menus, one per language: read from a data file and checked against the
platform's limits in every language before anything is sent, so a bad file fails with its line
instead of a platform error code.

zh-Hans is the default menu; each other language is a conditional menu matched by a platform tag
(`tag_name(lang)`), which the service keeps on residents whose reply language it is. The platform no
longer matches conditional menus on the client's own language (errcode 65320), so the tag is the
language the resident writes in or chose.
"""
from __future__ import annotations

from pathlib import Path

from knowledge.content import DATA_DIR, ContentError, YamlMap, load_mapping

MENU_FILE = DATA_DIR / "wechat_menu.yaml"
DEFAULT_LANGUAGE = "zh-Hans"
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60
TAG_PREFIX = "xinzhan-lang-"


def tag_name(lang: str) -> str | None:
    """The platform tag whose members see `lang`'s menu; None for the default language."""
    return None if lang == DEFAULT_LANGUAGE else TAG_PREFIX + lang


def _name(button: YamlMap, lang: str, limit: int) -> str:
    names = button.get("name")
    name = str(names.get(lang, "")) if isinstance(names, dict) else str(names or "")
    if not name or len(name.encode()) > limit:
        raise button.error(f"button name ({lang}) must be 1-{limit} bytes, got {name!r}", "name")
    return name


def _check_button(button, top: bool, path: Path, lang: str) -> dict:
    if not isinstance(button, YamlMap):
        raise ContentError(path, getattr(button, "line", 0), "each button must be a mapping")
    name = _name(button, lang, TOP_NAME_BYTES if top else SUB_NAME_BYTES)
    if "sub_button" in button:
        if not top:
            raise button.error("sub-buttons cannot have sub-buttons", "sub_button")
        subs = button["sub_button"]
        if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB:
            raise button.error(f"a menu holds 1-{MAX_SUB} sub-buttons", "sub_button")
        return {"name": name, "sub_button": [_check_button(b, False, path, lang) for b in subs]}
    kind = button.get("type")
    if kind == "click" and 0 < len(str(button.get("key", "")).encode()) <= 128:
        return {"type": "click", "name": name, "key": str(button["key"])}
    if kind == "view" and str(button.get("url", "")).startswith(("http://", "https://")):
        return {"type": "view", "name": name, "url": str(button["url"])}
    raise button.error("a button is type click (with key) or view (with an http(s) url)", "type")


def load_menus(path: Path = MENU_FILE) -> dict[str, dict]:
    """{language: the platform's menu definition}, the default language first."""
    data = load_mapping(path)
    languages = data.get("languages", [DEFAULT_LANGUAGE])
    if not isinstance(languages, list) or not languages or languages[0] != DEFAULT_LANGUAGE:
        raise data.error(f"'languages' lists the menu's languages, {DEFAULT_LANGUAGE} first", "languages")
    buttons = data.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_TOP:
        raise data.error(f"the menu needs 1-{MAX_TOP} top buttons under 'button'", "button")
    return {str(lang): {"button": [_check_button(b, True, path, str(lang)) for b in buttons]} for lang in languages}


def load_menu(path: Path = MENU_FILE) -> dict:
    """The default menu: what a resident with no language tag sees."""
    return load_menus(path)[DEFAULT_LANGUAGE]
