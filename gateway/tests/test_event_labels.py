"""Every event an auditor can meet in the log has a Thai (and English) name on the audit pages, so none is shown
as its raw type."""

from gateway.web import i18n
from shared.contracts import EVENTS


def test_every_event_type_has_a_name_in_both_languages():
    unnamed = [t for t in EVENTS if t.rsplit(".v", 1)[0] not in i18n.EVENT]
    assert unnamed == []
    assert all(thai and english for thai, english in i18n.EVENT.values())
