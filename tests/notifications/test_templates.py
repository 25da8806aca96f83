"""Every template renders in nl, fr and en; HTML parts escape what users typed."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.adapters.rendering import TemplateError, TemplateRenderer, build_message
from notifications.domain.deliveries import LANGUAGES, TemplateName, language_of

EXPIRES = "2026-12-01T12:00:00+00:00"

VALUES: dict[TemplateName, dict[str, Any]] = {
    TemplateName.EMAIL_VERIFICATION: {
        "display_name": "Ann",
        "activation_url": "https://skaart.test/activate?token=tok-123&x=1",
        "expires_at": EXPIRES,
    },
    TemplateName.REQUEST_DECIDED: {
        "display_name": "Ann",
        "kind": "link",
        "decision": "approved",
        "fiche_type": "practice",
        "fiche_name": "Praktijk Zuid",
        "comment": "Welkom",
    },
    TemplateName.EXPORT_READY: {
        "display_name": "Ann",
        "formats": ["csv", "json"],
        "download_url": "https://skaart.test/exports/1?sig=abc",
        "expires_at": EXPIRES,
    },
    TemplateName.INVITATION: {
        "practice_name": "Praktijk Zuid",
        "inviter_name": "Dr. Peeters",
        "profession": "dietitian",
        "accept_url": "https://skaart.test/invitations/accept?token=inv-9",
        "expires_at": EXPIRES,
    },
    TemplateName.INVITATION_OUTCOME: {
        "display_name": "Ann",
        "practice_name": "Praktijk Zuid",
        "outcome": "accepted",
    },
}

LINK_KEYS = ("activation_url", "download_url", "accept_url")


@pytest.mark.parametrize("template", list(TemplateName))
def test_every_template_renders_in_every_language_with_its_own_subject(
    template: TemplateName,
) -> None:
    renderer = TemplateRenderer()
    subjects = set()
    for language in LANGUAGES:
        rendered = renderer.render(template, language, VALUES[template])
        assert rendered.subject and "\n" not in rendered.subject
        assert rendered.text.strip() and rendered.html.strip()
        assert f'<html lang="{language}">' in rendered.html
        for key in LINK_KEYS:
            if key in VALUES[template]:
                url = VALUES[template][key]
                assert url in rendered.text
                assert f'href="{url.replace("&", "&amp;")}"' in rendered.html
        subjects.add(rendered.subject)
    assert len(subjects) == 3, "each language has its own subject"


def test_dutch_is_the_default_and_language_tags_are_understood() -> None:
    renderer = TemplateRenderer()
    values = VALUES[TemplateName.EMAIL_VERIFICATION]
    dutch = renderer.render(TemplateName.EMAIL_VERIFICATION, "nl", values).subject
    assert renderer.render(TemplateName.EMAIL_VERIFICATION, None, values).subject == dutch
    assert renderer.render(TemplateName.EMAIL_VERIFICATION, "de", values).subject == dutch
    assert language_of("FR-be") == "fr" and language_of("en_GB") == "en"
    assert "Confirmez" in renderer.render(TemplateName.EMAIL_VERIFICATION, "fr-BE", values).subject


@pytest.mark.parametrize("kind", ["link", "rights", "proposal", "removal", "source_error"])
@pytest.mark.parametrize("decision", ["approved", "declined"])
def test_request_decided_wording_differs_per_kind(kind: str, decision: str) -> None:
    renderer = TemplateRenderer()
    values = {**VALUES[TemplateName.REQUEST_DECIDED], "kind": kind, "decision": decision}
    texts = {lang: renderer.render("request_decided", lang, values).text for lang in LANGUAGES}
    others = {
        other: renderer.render("request_decided", "en", {**values, "kind": other}).text
        for other in ("link", "rights", "proposal", "removal", "source_error")
        if other != kind
    }
    assert all(texts["en"] != text for text in others.values())
    assert ("approved" in texts["en"]) == (decision == "approved")
    assert ("afgewezen" in texts["nl"]) == (decision == "declined")
    assert ("refusé" in texts["fr"]) == (decision == "declined")  # refusé(e): agreement


def test_html_escapes_what_users_typed_and_text_keeps_it_verbatim() -> None:
    renderer = TemplateRenderer()
    hostile = '<script>alert("x")</script> & Co'
    rendered = renderer.render(
        TemplateName.INVITATION,
        "nl",
        {**VALUES[TemplateName.INVITATION], "practice_name": hostile, "inviter_name": hostile},
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in rendered.html
    assert hostile in rendered.text
    decided = renderer.render(
        TemplateName.REQUEST_DECIDED,
        "fr",
        {**VALUES[TemplateName.REQUEST_DECIDED], "fiche_name": hostile, "comment": hostile},
    )
    assert "<script>" not in decided.html
    assert "&lt;script&gt;" in decided.html


def test_a_value_with_a_newline_cannot_add_a_header() -> None:
    renderer = TemplateRenderer()
    rendered = renderer.render(
        TemplateName.INVITATION,
        "en",
        {**VALUES[TemplateName.INVITATION], "inviter_name": "Eve\nBcc: victim@example.org"},
    )
    message = build_message(
        rendered, sender="a@b.test", recipient="c@d.test", language="en", message_id="m1"
    )
    assert message["Bcc"] is None
    assert "\n" not in str(message["Subject"])


def test_a_missing_value_is_a_clear_template_error() -> None:
    with pytest.raises(TemplateError, match="activation_url"):
        TemplateRenderer().render(TemplateName.EMAIL_VERIFICATION, "nl", {"display_name": "A"})


def test_the_message_is_multipart_alternative_with_text_and_html() -> None:
    rendered = TemplateRenderer().render(
        TemplateName.EXPORT_READY, "en", VALUES[TemplateName.EXPORT_READY]
    )
    message = build_message(
        rendered,
        sender="Sociale Kaart <no-reply@x.test>",
        recipient="a@b.test",
        language="en",
        message_id="d-1",
    )
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Message-ID"] == "<d-1@notifications.socialekaart>"


@pytest.mark.parametrize("language", LANGUAGES)
def test_what_users_typed_is_quoted_data_on_one_line_with_links_defanged(language: str) -> None:
    hostile = "Team\r\nBcc: everyone@example.org\nOpen https://evil.example/login now"
    rendered = TemplateRenderer().render(
        TemplateName.INVITATION,
        language,
        {**VALUES[TemplateName.INVITATION], "practice_name": hostile, "inviter_name": "Eve"},
    )
    assert "“Team Bcc: everyone@example[.]org Open hxxps://evil[.]example/login now”" in (
        rendered.text
    )
    for part in (rendered.text, rendered.html, rendered.subject):
        assert "https://evil" not in part and "evil.example" not in part
    assert not [
        line for line in rendered.text.splitlines() if line.startswith(("Bcc", "Open https"))
    ]
    assert 'href="https://skaart.test/invitations/accept?token=inv-9"' in rendered.html


def test_a_comment_keeps_its_lines_as_a_quoted_block() -> None:
    rendered = TemplateRenderer().render(
        TemplateName.REQUEST_DECIDED,
        "en",
        {
            **VALUES[TemplateName.REQUEST_DECIDED],
            "decision": "declined",
            "comment": "Not your practice.\nSee www.example.org\x1b[2J",
        },
    )
    assert "Comment:\n> Not your practice.\n> See www[.]example[.]org [2J\n" in rendered.text
    assert "<blockquote" in rendered.html and "www[.]example[.]org" in rendered.html


def test_french_agrees_with_the_noun_a_report_is_masculine() -> None:
    renderer = TemplateRenderer()
    values = {**VALUES[TemplateName.REQUEST_DECIDED], "kind": "source_error"}
    for decision, word in (("approved", "accepté"), ("declined", "refusé")):
        text = renderer.render("request_decided", "fr", {**values, "decision": decision}).text
        assert f"a été {word}." in text, text
        assert f"a été {word}e." not in text
    request = renderer.render("request_decided", "fr", VALUES[TemplateName.REQUEST_DECIDED])
    assert "Votre demande de lier votre offre" in request.text
    assert "a été acceptée." in request.text


@pytest.mark.parametrize(
    ("language", "edit_version"),
    [("nl", "bewerkversie"), ("fr", "version de travail"), ("en", "edit version")],
)
def test_an_approved_proposal_is_said_to_be_in_the_edit_version_not_on_the_map(
    language: str, edit_version: str
) -> None:
    values = {**VALUES[TemplateName.REQUEST_DECIDED], "kind": "proposal", "decision": "approved"}
    rendered = TemplateRenderer().render("request_decided", language, values)
    assert edit_version in rendered.text and edit_version in rendered.html
    for claim in ("now appears on the fiche", "staat nu op de fiche", "figure désormais"):
        assert claim not in rendered.text


@pytest.mark.parametrize(
    ("language", "phrase"),
    [
        ("nl", "je aanbod als verpleegkundige"),
        ("fr", "votre offre (profession : infirmier)"),
        ("en", "your offer as nurse"),
    ],
)
def test_the_invitation_names_the_profession_in_the_mails_language(
    language: str, phrase: str
) -> None:
    values = {**VALUES[TemplateName.INVITATION], "profession": "nurse"}
    rendered = TemplateRenderer().render(TemplateName.INVITATION, language, values)
    assert phrase in rendered.text
    assert phrase.replace("(", "").split(" ")[-1] in rendered.html


def test_every_profession_has_a_label_in_every_language() -> None:
    from contracts.profession_labels import PROFESSION_LABELS, profession_label
    from registry_sync.domain.identifiers import PROFESSION_LABELS_NL, PROFESSIONS

    for language in LANGUAGES:
        assert set(PROFESSION_LABELS[language]) == set(PROFESSIONS)
    assert PROFESSION_LABELS["nl"] == PROFESSION_LABELS_NL
    assert profession_label("dietitian", "fr") == "diététicien"
    assert profession_label("music_therapist", "en") == "music therapist"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_mail_links_to_a_portal_page_never_to_an_api(language: str) -> None:
    """Mails without a link of their own (decisions, invitation outcomes) point to the
    portal page where the person follows up; no mail sends anyone to an API address."""
    renderer = TemplateRenderer(portal_url="https://kaart.test/")
    for template, values in VALUES.items():
        rendered = renderer.render(template, language, values)
        for part in (rendered.text, rendered.html):
            assert "/api/" not in part, (template, language)
            assert "https://" in part, (template, language, "the mail links nowhere")
    decided = renderer.render(
        TemplateName.REQUEST_DECIDED, language, VALUES[TemplateName.REQUEST_DECIDED]
    )
    assert "https://kaart.test/mijn-aanvragen" in decided.text
    assert 'href="https://kaart.test/mijn-aanvragen"' in decided.html
    outcome = renderer.render(
        TemplateName.INVITATION_OUTCOME, language, VALUES[TemplateName.INVITATION_OUTCOME]
    )
    assert "https://kaart.test/mijn-fiches" in outcome.text
    assert 'href="https://kaart.test/mijn-fiches"' in outcome.html
