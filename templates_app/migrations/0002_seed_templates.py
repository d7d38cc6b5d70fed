"""Lägger in specifikationens fyra kategorier och åtta mallar med klinikens riktiga sidor.

Där specifikationen har [LÄNK] och ingen sida är känd läggs mallen in inaktiv, med en
anteckning till administratören. Signaturen läggs till vid sändning (SMS_SIGNATURE).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SITE = "sodermalmsortopedi.se"

# (kategori, [(rubrik, text, länk, aktiv, anteckning)])
SEED = [
    (
        "Policyer & regler",
        [
            (
                "Receptpolicy",
                "Hej! Info om vår receptpolicy och läkemedelsförskrivning finns här: [LÄNK]",
                f"{SITE}/info/recept-policy",
                True,
                "",
            ),
            (
                "Sjukskrivningspolicy",
                "Hej! Info om sjukskrivning och vad som gäller finns här: [LÄNK]",
                "",
                False,
                "Ingen sida om sjukskrivning är känd ännu: fyll i länken och aktivera mallen.",
            ),
        ],
    ),
    (
        "Inför besök",
        [
            (
                "Förberedelser inför operation",
                "Hej! Viktig info inför din operation: [LÄNK]",
                f"{SITE}/info/kallelse-operation",
                True,
                "Försäkringspatienter har en egen sida: /info/kallelse-operation-forsakring",
            ),
            (
                "Hitta till oss",
                "Hej! Här finns vägbeskrivning och info om parkering: [LÄNK]",
                f"{SITE}/om-oss/om-kliniken-hitta-hit/",
                True,
                "",
            ),
        ],
    ),
    (
        "Efter besök",
        [
            (
                "Rehab-övningar",
                "Hej! Här är ditt rehabprogram med övningar: [LÄNK]",
                "",
                False,
                "Ingen sida med rehabprogram är känd ännu: fyll i länken och aktivera mallen.",
            ),
            (
                "Kontaktinfo",
                "Har du frågor? Ring 08-XXX XX XX (mån-fre 8-16) eller mejla info@sodermalmsortopedi.se",
                "",
                False,
                "Fyll i klinikens telefonnummer i stället för 08-XXX XX XX och aktivera mallen.",
            ),
        ],
    ),
    (
        "Administrativa frågor",
        [
            (
                "Väntetider",
                "Hej! Info om väntetider och remisshantering: [LÄNK]",
                f"{SITE}/patient/remiss-vantetid/",
                True,
                "",
            ),
            (
                "Försäkringspatienter",
                "Hej! Info för försäkringspatienter finns här: [LÄNK]",
                f"{SITE}/patient/forsakringar-betalning/",
                True,
                "",
            ),
        ],
    ),
]


def seed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Skapar kategorierna och mallarna (idempotent: befintliga rubriker lämnas orörda)."""
    Category = apps.get_model("templates_app", "Category")
    MessageTemplate = apps.get_model("templates_app", "MessageTemplate")
    for category_order, (category_name, templates) in enumerate(SEED, start=1):
        category, _ = Category.objects.get_or_create(
            name=category_name, defaults={"order": category_order * 10}
        )
        for order, (title, text, link, active, note) in enumerate(templates, start=1):
            MessageTemplate.objects.get_or_create(
                category=category,
                title=title,
                defaults={
                    "text": text,
                    "link": link,
                    "active": active,
                    "order": order * 10,
                    "admin_note": note,
                },
            )


def unseed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Bakåt: tar bort de inlagda mallarna och tomma kategorier."""
    Category = apps.get_model("templates_app", "Category")
    MessageTemplate = apps.get_model("templates_app", "MessageTemplate")
    for category_name, templates in SEED:
        MessageTemplate.objects.filter(
            category__name=category_name, title__in=[t[0] for t in templates]
        ).delete()
        Category.objects.filter(name=category_name, templates__isnull=True).delete()


class Migration(migrations.Migration):
    """Datamigrering med specifikationens mallar."""

    dependencies = [("templates_app", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
