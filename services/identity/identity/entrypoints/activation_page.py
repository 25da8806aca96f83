"""The page an activation link opens, and the page after the button, in the user's language.

A GET only shows a button (mail scanners that prefetch links must not use them up); the
button posts the token. The language is the one of the user the link is for, else the
browser's, else Dutch.
"""

from __future__ import annotations

import html
from typing import Any

LANGUAGES = ("nl", "fr", "en")

_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Profiel activeren",
        "heading": "Activeer je profiel op de Sociale Kaart",
        "button": "Activeren",
        "done": "Je profiel is actief. Je kunt nu verder op de Sociale Kaart.",
        "refused": "Deze link werkt niet (meer).",
    },
    "fr": {
        "title": "Activer le profil",
        "heading": "Activez votre profil sur la Carte sociale",
        "button": "Activer",
        "done": "Votre profil est actif. Vous pouvez continuer sur la Carte sociale.",
        "refused": "Ce lien ne fonctionne pas (ou plus).",
    },
    "en": {
        "title": "Activate your profile",
        "heading": "Activate your profile on the Sociale Kaart",
        "button": "Activate",
        "done": "Your profile is active. You can carry on on the Sociale Kaart.",
        "refused": "This link does not work (any more).",
    },
}


#: Why a link was refused, and what to do, per refusal code of `Accounts.activate`.
_REFUSALS: dict[str, dict[str, str]] = {
    "nl": {
        "activation_link_used": "Deze link werd al gebruikt. Is je profiel actief, meld je "
        "dan gewoon aan.",
        "activation_link_replaced": "Er werd een nieuwere link gestuurd; gebruik die.",
        "activation_link_expired": "Deze link is verlopen. Meld je aan en vraag een nieuwe.",
        "activation_link_invalid": "Kopieer de hele link uit de e-mail, of meld je aan en "
        "vraag een nieuwe.",
    },
    "fr": {
        "activation_link_used": "Ce lien a déjà été utilisé. Si votre profil est actif, "
        "connectez-vous simplement.",
        "activation_link_replaced": "Un lien plus récent vous a été envoyé ; utilisez-le.",
        "activation_link_expired": "Ce lien a expiré. Connectez-vous et demandez-en un nouveau.",
        "activation_link_invalid": "Copiez le lien complet depuis l'e-mail, ou connectez-vous "
        "et demandez-en un nouveau.",
    },
    "en": {
        "activation_link_used": "This link was already used. If your profile is active, just "
        "log in.",
        "activation_link_replaced": "A newer link was sent; use that one.",
        "activation_link_expired": "This link has expired. Log in and ask for a new one.",
        "activation_link_invalid": "Copy the whole link from the e-mail, or log in and ask "
        "for a new one.",
    },
}


def page_language(user_language: str | None, accept_language: str | None) -> str:
    """The user's language, else the first of nl/fr/en the browser accepts, else Dutch."""
    if user_language in LANGUAGES:
        return str(user_language)
    for part in (accept_language or "").split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "nl"


def _page(language: str, body: str) -> str:
    texts = _TEXTS[language]
    return (
        f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
        f"<title>{texts['title']}</title></head><body>{body}</body></html>"
    )


def activation_form(language: str, token: str) -> str:
    """The page with the Activate button."""
    texts = _TEXTS[language]
    return _page(
        language,
        f"<h1>{texts['heading']}</h1><form method='post'>"
        f"<input type='hidden' name='token' value='{html.escape(token)}'>"
        f"<button>{texts['button']}</button></form>",
    )


def activation_result(
    language: str, outcome: dict[str, Any] | None, refusal_code: str = "", advice: str = ""
) -> str:
    """The page after the button: active, or why not and what to do."""
    texts = _TEXTS[language]
    if outcome is not None:
        return _page(language, f"<h1>{texts['done']}</h1>")
    reason = _REFUSALS[language].get(refusal_code, advice)
    return _page(language, f"<h1>{texts['refused']}</h1><p>{html.escape(reason)}</p>")
