"""Rules of a delivery."""

import pytest

from services.routing.domain.deliveries import DeliveryConflict, already_received, can_receive


@pytest.mark.parametrize("status", ["delivered", "received"])
def test_a_delivered_letter_can_be_received_and_repeating_is_harmless(status):
    assert can_receive(status)


@pytest.mark.parametrize("status", ["pending", "returned", "rejected", "recalled", "forwarded", "closed"])
def test_other_states_cannot_be_received(status):
    with pytest.raises(DeliveryConflict):
        can_receive(status)


def test_only_received_counts_as_received():
    assert already_received("received") and not already_received("delivered")
