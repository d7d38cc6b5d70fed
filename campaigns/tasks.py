"""django-q2:s ingångar för kampanjerna: argumenten är bara id:n, allt arbete görs av tjänsterna.

Sändningen finns i `campaigns.dispatch`, personalens avisering i `campaigns.alerts`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django_q.conf import Conf

from campaigns import alerts, dispatch, waves

logger = logging.getLogger(__name__)


def send_to_recipient(recipient_id: int) -> None:
    """Jobbet per mottagare: skickar dess SMS högst en gång (se `dispatch.send_to_recipient`)."""
    dispatch.send_to_recipient(recipient_id)


def send_staff_alert(campaign_id: int) -> bool:
    """Jobbet per avisering: SMS till kampanjens aviseringsnummer; sant om skickad."""
    return alerts.send_staff_alert(campaign_id)


def requeue_stuck_work() -> int:
    """Minutschemat: stänger kampanjer vars svarstid passerat, avbryter, köar om och köar missade
    aviseringar (`dispatch.requeue_stuck_work`) och släpper sist aktuella grupper (en nyss släppt
    grupps jobb köas då inte två gånger). Returnerar summan av deras antal."""
    return waves.close_expired_campaigns() + dispatch.requeue_stuck_work() + waves.release_due_waves()


def requeue_on_worker_start(sender: Any, proc_name: str = "", **kwargs: Any) -> None:
    """django-q2:s signal `post_spawn`: en ny arbetsprocess (start, eller efter att en dött) köar om.

    Fel fångas och loggas: en arbetsprocess får aldrig dö av återställningen. I SYNC-läge
    (jobben körs direkt i anroparen, t.ex. i tester) skickas signalen för varje jobb: inget görs då.
    """
    if Conf.SYNC:
        return
    try:
        dispatch.requeue_stuck_recipients(older_than=timedelta(0))
    except Exception as error:  # noqa: BLE001 – t.ex. databasen nere just vid starten
        logger.warning("Återställningen av köade mottagare misslyckades (%s)", type(error).__name__)
