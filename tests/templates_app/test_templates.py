"""Mallar: de inlagda mallarna, sammansättningen av SMS och administrationen."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from templates_app.models import Category, MessageTemplate, render_body


def test_seeded_categories_and_templates(db: Any) -> None:
    """Specifikationens fyra kategorier och åtta mallar finns efter migrering."""
    assert list(Category.objects.values_list("name", flat=True)) == [
        "Policyer & regler",
        "Inför besök",
        "Efter besök",
        "Administrativa frågor",
    ]
    assert MessageTemplate.objects.count() == 8
    active = {t.title: t.sms_text() for t in MessageTemplate.objects.active()}
    assert active["Receptpolicy"] == (
        "Hej! Info om vår receptpolicy och läkemedelsförskrivning finns här: "
        "sodermalmsortopedi.se/info/recept-policy\n/Södermalms Ortopedi"
    )
    assert "sodermalmsortopedi.se/om-oss/om-kliniken-hitta-hit/" in active["Hitta till oss"]
    assert "sodermalmsortopedi.se/patient/remiss-vantetid/" in active["Väntetider"]
    assert "sodermalmsortopedi.se/patient/forsakringar-betalning/" in active["Försäkringspatienter"]
    assert "sodermalmsortopedi.se/info/kallelse-operation" in active["Förberedelser inför operation"]


@pytest.mark.parametrize("title", ["Sjukskrivningspolicy", "Rehab-övningar", "Kontaktinfo"])
def test_unknown_links_are_seeded_inactive_with_a_note(db: Any, title: str) -> None:
    """Mallar utan känd sida (eller med 08-XXX) är inaktiva och har en anteckning."""
    template = MessageTemplate.objects.get(title=title)
    assert not template.active
    assert "aktivera mallen" in template.admin_note
    with pytest.raises(ValidationError):
        MessageTemplate(category=template.category, title="x", text=template.text, link="", active=True).full_clean()


def test_link_placement_and_signature_setting(db: Any) -> None:
    """Länken hamnar vid [LÄNK] eller sist; signaturen är en inställning."""
    assert render_body("Läs här: [LÄNK] tack", "a.se/b") == "Läs här: a.se/b tack"
    assert render_body("Läs mer", "a.se/b") == "Läs mer a.se/b"
    assert render_body("Ingen länk", "") == "Ingen länk"
    template = MessageTemplate(text="Hej", link="a.se")
    with override_settings(SMS_SIGNATURE="/Kliniken"):
        assert template.sms_text() == "Hej a.se\n/Kliniken"


def test_admin_manages_templates_with_preview(admin_client_: Client) -> None:
    """En administratör (inte superanvändare) skapar, ser förhandsgranskning och tar bort mallar."""
    category = Category.objects.get(name="Efter besök")
    response = admin_client_.post(
        "/admin/templates_app/messagetemplate/add/",
        {
            "category": category.pk,
            "title": "Gips",
            "text": "Hej! Om gipset: [LÄNK]",
            "link": "a.se/gips",
            "active": "on",
            "order": 5,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    template = MessageTemplate.objects.get(title="Gips")
    page = admin_client_.get(f"/admin/templates_app/messagetemplate/{template.pk}/change/").content.decode()
    assert "Hej! Om gipset: a.se/gips\n/Södermalms Ortopedi" in page
    assert "1 SMS-del" in page and "GSM-7" in page
    listing = admin_client_.get("/admin/templates_app/messagetemplate/?category__id__exact=%d" % category.pk)
    assert "Gips" in listing.content.decode()
    admin_client_.post(f"/admin/templates_app/messagetemplate/{template.pk}/delete/", {"post": "yes"})
    assert not MessageTemplate.objects.filter(title="Gips").exists()


def test_admin_refuses_activating_unfinished_template(admin_client_: Client) -> None:
    """Att aktivera en mall med [LÄNK] men utan länk ger ett svenskt fel."""
    template = MessageTemplate.objects.get(title="Rehab-övningar")
    response = admin_client_.post(
        f"/admin/templates_app/messagetemplate/{template.pk}/change/",
        {
            "category": template.category.pk,
            "title": template.title,
            "text": template.text,
            "link": "",
            "active": "on",
            "order": 1,
        },
    )
    assert response.status_code == 200
    assert "fyll i länken eller avaktivera mallen" in response.content.decode()
    template.refresh_from_db()
    assert not template.active


def test_admin_refuses_an_active_template_the_send_page_cannot_send(admin_client_: Client) -> None:
    """En aktiv mall vars text med länk är längre än sändsidan tar vägras med ett svenskt fel:
    förut sparades den, och receptionen fick "Meddelandet är för långt" varje gång den valdes."""
    template = MessageTemplate.objects.filter(active=True).first()
    response = admin_client_.post(
        f"/admin/templates_app/messagetemplate/{template.pk}/change/",
        {
            "category": template.category.pk,
            "title": template.title,
            "text": "Lång text. " * 50,
            "link": "https://www.sodermalmsortopedi.se/" + "a" * 150,
            "active": "on",
            "order": 1,
        },
    )
    assert response.status_code == 200
    assert "sändsidan skickar högst 612" in response.content.decode()
    template.refresh_from_db()
    assert len(template.body()) <= 612


def formset_post(formset: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """En admin-formsets POST-data som sidan visar den (varje rads värden), med `changes` för en rad.

    `changes` nyckelas med fältnamnet utan prefix och gäller raden vars mall har titeln i "title".
    """
    data = {f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()}
    for form in formset.forms:
        values = {name: form.initial.get(name) for name in form.fields}
        values["id"] = form.instance.pk
        if form.instance.title == changes["title"]:
            values.update({key: value for key, value in changes.items() if key != "title"})
        for name, value in values.items():
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif value not in (None, False):
                data[form.add_prefix(name)] = getattr(value, "pk", value)
    return data


def test_activating_an_unfinished_template_in_a_list_shows_the_reason(admin_client_: Client) -> None:
    """Kryssa i "Aktiv" på en mall med XXX eller [LÄNK] utan länk, i mallistan eller på kategorisidan:
    ett svenskt fel på raden och inget sparat (förut felsidan 500, eftersom felet gäller texten eller
    länken, som raden inte har)."""
    contact = MessageTemplate.objects.get(title="Kontaktinfo")
    listing_url = f"/admin/templates_app/messagetemplate/?category__id__exact={contact.category.pk}"
    formset = admin_client_.get(listing_url).context["cl"].formset
    listing = admin_client_.post(
        listing_url, {**formset_post(formset, {"title": "Kontaktinfo", "active": True}), "_save": "Spara"}
    )
    assert listing.status_code == 200
    assert "platshållaren XXX" in listing.content.decode()

    sick_leave = MessageTemplate.objects.get(title="Sjukskrivningspolicy")
    category_url = f"/admin/templates_app/category/{sick_leave.category.pk}/change/"
    page = admin_client_.get(category_url)
    inline = page.context["inline_admin_formsets"][0].formset
    category = {"name": sick_leave.category.name, "order": sick_leave.category.order}
    inline_post = admin_client_.post(
        category_url, {**category, **formset_post(inline, {"title": "Sjukskrivningspolicy", "active": True})}
    )
    assert inline_post.status_code == 200
    assert "fyll i länken eller avaktivera mallen" in inline_post.content.decode()
    assert not MessageTemplate.objects.filter(title__in=["Kontaktinfo", "Sjukskrivningspolicy"], active=True).exists()


def test_staff_cannot_edit_templates(staff_client: Client) -> None:
    """Vanlig personal kommer inte åt mallredigeringen."""
    assert staff_client.get("/admin/templates_app/messagetemplate/", follow=True).status_code == 403
