"""Kategorier och SMS-mallar för envägs-SMS."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from common.privacy import looks_like_phone_number
from common.smstext import unix_newlines

# Platsen för länken i mallens text (klinikens egen notation i specifikationen).
LINK_PLACEHOLDER = "[LÄNK]"


class Category(models.Model):
    """En mallkategori, t.ex. "Inför besök"."""

    name = models.CharField("namn", max_length=100, unique=True)
    order = models.PositiveSmallIntegerField("ordning", default=0)

    class Meta:
        verbose_name = "kategori"
        verbose_name_plural = "kategorier"
        ordering = ["order", "name"]

    def __str__(self) -> str:
        """Kategorins namn."""
        return self.name


class MessageTemplateQuerySet(models.QuerySet):
    """Urval av mallar."""

    def active(self) -> "MessageTemplateQuerySet":
        """Mallar som personalen kan skicka, i visningsordning."""
        return (
            self.filter(active=True)
            .select_related("category")
            .order_by("category__order", "category__name", "order", "title")
        )


class MessageTemplate(models.Model):
    """En SMS-mall. Det som skickas är `sms_text()`: texten, länken och signaturen."""

    category = models.ForeignKey(Category, verbose_name="kategori", on_delete=models.PROTECT, related_name="templates")
    title = models.CharField("rubrik (för personalen)", max_length=100)
    text = models.TextField(
        "meddelandetext",
        max_length=600,
        help_text=f"Det som skickas. Skriv {LINK_PLACEHOLDER} där länken ska stå; annars läggs "
        "länken sist. Signaturen läggs till automatiskt.",
    )
    link = models.CharField(
        "länk till hemsidan",
        max_length=200,
        blank=True,
        help_text="Valfri, t.ex. sodermalmsortopedi.se/info/recept-policy",
    )
    active = models.BooleanField("aktiv", default=True, help_text="Bara aktiva mallar visas för personalen.")
    order = models.PositiveSmallIntegerField("ordning", default=0)
    admin_note = models.CharField("anteckning till administratören", max_length=300, blank=True)

    objects = MessageTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = "SMS-mall"
        verbose_name_plural = "SMS-mallar"
        ordering = ["category__order", "order", "title"]
        constraints = [models.UniqueConstraint(fields=["category", "title"], name="unique_title_per_category")]

    def __str__(self) -> str:
        """Kategori och rubrik."""
        return f"{self.category} – {self.title}"

    def body(self) -> str:
        """Mallens text med länken på sin plats (det personalen kan redigera före sändning)."""
        return render_body(self.text, self.link)

    def sms_text(self) -> str:
        """Exakt den text som skickas: texten med länk, och klinikens signatur sist."""
        return with_signature(self.body())

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Sparar med radbrytningar som LF (som webbläsarens räknare räknar dem)."""
        self.text = unix_newlines(self.text)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Aktiv mall: inga platshållare, länken finns, går att skicka från sändsidan (längden);
        rubriken får inte likna ett telefonnummer."""
        if looks_like_phone_number(self.title):
            raise ValidationError(
                {"title": "Rubriken får inte innehålla något som liknar ett telefonnummer (den loggas)."}
            )
        if not self.active:
            return
        if LINK_PLACEHOLDER in self.text and not self.link.strip():
            raise ValidationError(
                {"link": f"Texten innehåller {LINK_PLACEHOLDER}: fyll i länken eller avaktivera mallen."}
            )
        if "XXX" in self.text:
            raise ValidationError(
                {"text": "Texten innehåller platshållaren XXX: fyll i uppgiften eller avaktivera mallen."}
            )
        if re.search(r"\s", self.link.strip()):
            raise ValidationError({"link": "Länken får inte innehålla mellanslag."})
        length = len(render_body(unix_newlines(self.text), self.link))
        if length > settings.SMS_MAX_LENGTH:
            raise ValidationError(
                {
                    "text": f"Texten med länken blir {length} tecken; sändsidan skickar högst "
                    f"{settings.SMS_MAX_LENGTH}. Korta texten eller länken."
                }
            )


def render_body(text: str, link: str) -> str:
    """Sätter länken där texten säger ([LÄNK]) eller sist."""
    body = text.strip()
    link = link.strip()
    if not link:
        return body
    if LINK_PLACEHOLDER in body:
        return body.replace(LINK_PLACEHOLDER, link)
    return f"{body} {link}"


def with_signature(body: str) -> str:
    """Lägger klinikens signatur (inställningen SMS_SIGNATURE) på egen rad sist i texten."""
    body = body.strip()
    signature = settings.SMS_SIGNATURE.strip()
    return f"{body}\n{signature}" if signature else body
