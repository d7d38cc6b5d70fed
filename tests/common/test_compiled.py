"""Frågor som byggs till SQL en gång per process (common.compiled): samma svar som ORM:en, snabbare.

Patientsidorna använder dem för uppslaget på svarskoden, låset på kampanjen och svarets
uppdatering. Här kontrolleras att de ger exakt det ORM:en ger (fält, tider, relaterade objekt,
annoteringar, antal ändrade rader), att SQL:en bara byggs första gången, att värdena går som
parametrar, och att ett lås utan transaktion vägras som i ORM:en.
Körs både mot SQLite och PostgreSQL (`.ci/run`), där tider och sanningsvärden kommer olika ur databasen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, Exists, OuterRef
from django.db.models.functions import Coalesce
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, OptOut, Recipient
from common.compiled import CompiledQuery, CompiledUpdate, Param
from tests.campaigns.factories import make_campaign, recipient

CODE = Param("code", CharField())


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj med tre mottagare, en av dem har avböjt fler förfrågningar."""
    campaign = make_campaign(staff_user)
    OptOut.objects.create(phone_hash=recipient(campaign, "Karl Karlsson").phone_hash)
    return campaign


FIELDS = ("code", "name", "answer", "phone_hash", "campaign__slot_at", "campaign__status")


def patient_query() -> CompiledQuery[Recipient]:
    """Som patientsidans uppslag: mottagaren med kampanjen, några fält och en annotering."""
    return CompiledQuery(
        Recipient.objects.select_related("campaign")
        .only(*FIELDS)
        .annotate(declined=Exists(OptOut.objects.filter(phone_hash=OuterRef("phone_hash"))))
        .filter(code=CODE)
    )


def test_fetch_gives_what_the_orm_gives(campaign: Campaign) -> None:
    """Samma fält, samma tid (med tidszon), samma kampanj och annotering; inga extra frågor efteråt."""
    query = patient_query()
    for name, declined in (("Anna Andersson", False), ("Karl Karlsson", True)):
        person = recipient(campaign, name)
        found = query.fetch(code=person.code)
        assert found is not None
        with CaptureQueriesContext(connection) as later:
            assert (found.pk, found.name, found.answer, found.code) == (person.pk, name, "", person.code)
            assert found.campaign.slot_at == campaign.slot_at and timezone.is_aware(found.campaign.slot_at)
            assert found.campaign.status == Campaign.Status.ACTIVE
            assert found.declined is declined  # type: ignore[attr-defined]
        assert later.captured_queries == []
        expected = Recipient.objects.select_related("campaign").only(*FIELDS).get(pk=person.pk)
        assert found.get_deferred_fields() == expected.get_deferred_fields()
        assert found.campaign.get_deferred_fields() == expected.campaign.get_deferred_fields()


def test_unknown_key_gives_none_and_the_key_is_a_parameter(campaign: Campaign) -> None:
    """En okänd kod, också en med citattecken och SQL, ger None och ändrar ingenting: värdet är en parameter."""
    query = patient_query()
    for code in ("OkandKod12345678", "x' OR '1'='1", "'; DELETE FROM campaigns_recipient; --"):
        assert query.fetch(code=code) is None
    assert Recipient.objects.filter(campaign=campaign).count() == 3


def test_sql_is_built_once(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> None:
    """Första anropet bygger SQL:en (Djangos `as_sql`), övriga kör den: en fråga var, inget nytt bygge."""
    built: list[SQLCompiler] = []
    original = SQLCompiler.as_sql

    def counting_as_sql(compiler: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        """Räknar frågebyggena."""
        built.append(compiler)
        return original(compiler, *args, **kwargs)

    query = patient_query()
    codes = list(Recipient.objects.filter(campaign=campaign).order_by("pk").values_list("code", flat=True))
    monkeypatch.setattr(SQLCompiler, "as_sql", counting_as_sql)
    assert query.fetch(code=codes[0]) is not None
    assert built, "första anropet bygger frågan"
    built.clear()
    with CaptureQueriesContext(connection) as queries:
        names = [found.name for code in codes if (found := query.fetch(code=code))]
    assert names == ["Anna Andersson", "Karl Karlsson", "Lisa Larsson"]
    assert built == [] and len(queries.captured_queries) == 3


@pytest.mark.django_db(transaction=True)
def test_lock_outside_a_transaction_is_refused_every_time(campaign: Campaign) -> None:
    """`select_for_update` utan transaktion vägras som i ORM:en, också när SQL:en redan är byggd.

    SQLite låser inte rader (Djangos `has_select_for_update` är falskt): där vägrar ingen av dem.
    """
    lock = CompiledQuery(Campaign.objects.filter(recipients__code=CODE).select_for_update(of=("self",)))
    code = recipient(campaign, "Anna Andersson").code
    with transaction.atomic():
        locked = lock.fetch(code=code)
    assert locked is not None and locked.pk == campaign.pk
    orm = Campaign.objects.filter(recipients__code=code).select_for_update(of=("self",))
    if not connection.features.has_select_for_update:
        assert lock.fetch(code=code) == orm.get() == campaign
        return
    with pytest.raises(TransactionManagementError):
        orm.get()
    with pytest.raises(TransactionManagementError):
        lock.fetch(code=code)


def test_update_changes_the_rows_the_orm_would(campaign: Campaign) -> None:
    """Villkoret och värdena som i `update()`: tiden sparas med tidszon, en rad som redan har svaret lämnas."""
    now = Param("now", DateTimeField())
    answer_no = CompiledUpdate(
        Recipient.objects.filter(code=CODE).exclude(answer=Recipient.Answer.NO),
        answer=Recipient.Answer.NO,
        answered_at=now,
        opened_at=Coalesce("opened_at", now),
    )
    anna, lisa = recipient(campaign, "Anna Andersson"), recipient(campaign, "Lisa Larsson")
    opened = timezone.now() - timedelta(minutes=5)
    Recipient.objects.filter(pk=lisa.pk).update(opened_at=opened)
    answered = timezone.now()
    assert answer_no.execute(code=anna.code, now=answered) == 1
    assert answer_no.execute(code=lisa.code, now=answered) == 1
    assert answer_no.execute(code=anna.code, now=answered + timedelta(minutes=1)) == 0
    anna, lisa = recipient(campaign, "Anna Andersson"), recipient(campaign, "Lisa Larsson")
    assert (anna.answer, anna.answered_at, anna.opened_at) == ("no", answered, answered)
    assert (lisa.answer, lisa.answered_at, lisa.opened_at) == ("no", answered, opened)
    assert recipient(campaign, "Karl Karlsson").answer == ""
