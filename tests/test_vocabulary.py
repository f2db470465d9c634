"""The vocabulary: contacts and their pressure ranges, techniques, and the words of the scale."""

from __future__ import annotations

import pytest

from backrub.method.vocabulary import (
    DEEP_CONTACTS,
    DEEP_PRESSURE,
    FINGER_CONTACTS,
    PERCUSSION_CONTACTS,
    Contact,
    PressureLevel,
    Technique,
)
from backrub.method.words import contact_info, vocabulary


@pytest.mark.parametrize("contact", list(Contact))
def test_every_contact_has_a_sensible_range(contact: Contact) -> None:
    info = contact_info(contact)
    assert PressureLevel.FEATHER <= info.min <= info.max <= PressureLevel.DEEP
    assert info.name
    assert info.how
    assert info.fits(info.min)
    assert info.fits(info.max)
    assert not info.fits(info.max + 1)


@pytest.mark.parametrize("contact", sorted(DEEP_CONTACTS))
def test_deep_contacts_reach_firm_pressure(contact: Contact) -> None:
    assert contact_info(contact).max >= DEEP_PRESSURE


@pytest.mark.parametrize("contact", sorted(FINGER_CONTACTS))
def test_finger_contacts_stop_at_moderate(contact: Contact) -> None:
    # Fingers alone never carry deep pressure (U5): it does not reach and it hurts the giver.
    assert contact_info(contact).max <= PressureLevel.MODERATE


def test_only_deep_contacts_reach_firm_pressure() -> None:
    for contact in Contact:
        if contact_info(contact).max >= DEEP_PRESSURE:
            assert contact in DEEP_CONTACTS, contact


@pytest.mark.parametrize("contact", sorted(PERCUSSION_CONTACTS))
def test_percussion_contacts_stay_light(contact: Contact) -> None:
    assert contact_info(contact).max <= PressureLevel.MODERATE


def test_elbow_is_only_for_firm_work() -> None:
    # The elbow is the top of the knot ladder (U6, U7), never a light contact.
    assert contact_info(Contact.ELBOW).min >= DEEP_PRESSURE


def test_palms_can_sweep_feather_light() -> None:
    # Closing sweeps (C4) are palms at pressure 1.
    assert contact_info(Contact.PALMS).fits(PressureLevel.FEATHER)


@pytest.mark.parametrize("level", list(PressureLevel))
def test_every_pressure_level_has_a_word(level: PressureLevel) -> None:
    words = vocabulary().pressure
    assert str(level.value) in words
    assert words[str(level.value)].word == level.word
    assert words[str(level.value)].feel
    assert vocabulary().pressure_word(level) == level.word


def test_pressure_words_are_distinct() -> None:
    words = [vocabulary().pressure_word(level) for level in PressureLevel]
    assert len(set(words)) == len(words)


def test_every_technique_is_described() -> None:
    for technique in Technique:
        info = vocabulary().technique[technique]
        assert info.name
        assert info.how
