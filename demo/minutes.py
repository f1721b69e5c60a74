"""The minutes as the portal words them, composed outside a request from the compiled catalogues."""

from __future__ import annotations

import functools
from pathlib import Path

from babel.support import Translations
from sqlalchemy.orm import Session

from appeals.documents import complaints_for_minutes
from core import documents
from incentives import minutes
from incentives.models import CommissionSession

# The portal's catalogues (read as files: the demo never imports the portal).
CATALOGUES = Path(__file__).resolve().parent.parent / "portal" / "translations"


@functools.cache
def language(code: str) -> minutes.Language:
    """Return the minutes' wording in ``code`` as Flask-Babel gives it under force_locale."""
    catalogue = Translations.load(str(CATALOGUES), [code], domain="messages")

    def gettext(msgid: str, **params) -> str:
        text = catalogue.ugettext(msgid)
        return text % params if params else text

    return minutes.Language(code, gettext)


def texts(session: Session, sitting: CommissionSession) -> tuple[str, str]:
    """Compose the frozen texts of a closed session's minutes in Kazakh and in Russian."""
    complaints = complaints_for_minutes(session, sitting)
    kk, ru = (
        documents.to_text(minutes.compose(session, sitting, language(code), complaints))
        for code in ("kk", "ru")
    )
    return kk, ru
