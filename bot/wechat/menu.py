"""The official account's menu: read from a data file and checked against the platform's limits
before anything is sent, so a bad file fails with its line instead of a platform error code."""
from __future__ import annotations

from pathlib import Path

from knowledge.content import DATA_DIR, ContentError, YamlMap, load_mapping

MENU_FILE = DATA_DIR / "wechat_menu.yaml"
MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60


def _check_button(button, top: bool, path: Path) -> dict:
    if not isinstance(button, YamlMap):
        raise ContentError(path, getattr(button, "line", 0), "each button must be a mapping")
    name = str(button.get("name", ""))
    limit = TOP_NAME_BYTES if top else SUB_NAME_BYTES
    if not name or len(name.encode()) > limit:
        raise button.error(f"button name must be 1-{limit} bytes, got {name!r}", "name")
    if "sub_button" in button:
        if not top:
            raise button.error("sub-buttons cannot have sub-buttons", "sub_button")
        subs = button["sub_button"]
        if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB:
            raise button.error(f"a menu holds 1-{MAX_SUB} sub-buttons", "sub_button")
        return {"name": name, "sub_button": [_check_button(b, top=False, path=path) for b in subs]}
    kind = button.get("type")
    if kind == "click" and 0 < len(str(button.get("key", "")).encode()) <= 128:
        return {"type": "click", "name": name, "key": str(button["key"])}
    if kind == "view" and str(button.get("url", "")).startswith(("http://", "https://")):
        return {"type": "view", "name": name, "url": str(button["url"])}
    raise button.error("a button is type click (with key) or view (with an http(s) url)", "type")


def load_menu(path: Path = MENU_FILE) -> dict:
    data = load_mapping(path)
    buttons = data.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_TOP:
        raise data.error(f"the menu needs 1-{MAX_TOP} top buttons under 'button'", "button")
    return {"button": [_check_button(b, top=True, path=path) for b in buttons]}
