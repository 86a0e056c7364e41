"""A hub sends the events of the items it read together as one write per
subscriber, in ledger order, with the frames joined once for every
subscriber without filters (``Hub.publish``, ``events.Batch``)."""

import asyncio
import tracemalloc

from bigchaindb.streams.events import BLOCKS, VALID_TRANSACTIONS, Event, Item
from bigchaindb.streams.hub import Hub, Subscriber


def block(number, assets):
    """A decided VALID block's item: its event on ``blocks``, one per transaction (of ``assets``)."""
    token = str(number)
    valid = [Event(f"{token}:{place}", {"transaction_id": f"tx{number}-{place}", "asset_id": asset},
                   asset, "CREATE", frozenset()) for place, asset in enumerate(assets)]
    return Item(number, token, f"block{number}", {BLOCKS: [Event(token, {"block_id": f"block{number}"})],
                                                   VALID_TRANSACTIONS: valid})


def follower(hub, stream, keeps_up=True, matches=None):
    """A live subscriber whose sender writes at once; ``writes`` holds what each write sent."""
    subscriber = Subscriber(stream, 100, matches)
    subscriber.writes = []

    def write(events):
        subscriber.writes.append(events.frames())
        subscriber.last_token = events[-1].token
        return keeps_up
    subscriber.write = write
    hub.subscribers.add(subscriber)
    return subscriber


def frames(items, stream, matches=lambda event: True):
    return b"".join(event.frame() for item in items for event in item.events[stream] if matches(event))


def test_the_items_of_one_read_go_to_each_subscriber_in_one_write_framed_once():
    hub = Hub("blocks", None, None, None, None)
    everything, again = follower(hub, VALID_TRANSACTIONS), follower(hub, VALID_TRANSACTIONS)
    of_b = follower(hub, VALID_TRANSACTIONS, matches=lambda event: event.asset_id == "b")
    blocks = follower(hub, BLOCKS)
    items = [block(1, "ab"), block(2, "cb"), block(3, "")]
    hub.publish(items)
    assert everything.writes == [frames(items, VALID_TRANSACTIONS)]
    assert everything.writes[0] is again.writes[0]  # joined once for both
    assert of_b.writes == [frames(items, VALID_TRANSACTIONS, lambda event: event.asset_id == "b")]
    assert blocks.writes == [frames(items, BLOCKS)]
    assert everything.last_token == "2:1" and blocks.last_token == "3"
    hub.publish([block(4, "")])  # nothing for the transactions' subscribers: no empty write
    assert len(everything.writes) == 1 and len(blocks.writes) == 2


def test_a_subscriber_whose_socket_is_full_gets_the_rest_in_order_from_its_buffer():
    hub = Hub("blocks", None, None, None, None)
    slow = follower(hub, VALID_TRANSACTIONS, keeps_up=False)
    first, later = [block(1, "ab")], [block(2, "c"), block(3, "de")]
    hub.publish(first)
    hub.publish(later)  # waits for its sender, which takes it as one batch
    assert slow.writes == [frames(first, VALID_TRANSACTIONS)] and slow.congested
    taken = asyncio.run(slow.take())
    assert [event.token for event in taken] == ["2:0", "3:0", "3:1"]
    assert taken.frames() == frames(later, VALID_TRANSACTIONS)


def test_an_event_holds_memory_for_its_message_not_for_the_serialiser_buffer():
    """The ring keeps up to 50,000 events: each must cost about its message's
    length (orjson's own answer keeps a buffer of 4 KiB or more)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        events = [Event(f"{'b' * 64}:{place}", {"transaction_id": "t" * 64, "asset_id": "a" * 36,
                                                "block_id": "b" * 64}, "a" * 36, "CREATE", frozenset())
                  for place in range(2000)]
        per_event = (tracemalloc.get_traced_memory()[0] - before) / len(events)
    finally:
        tracemalloc.stop()
    assert len(events[0].message) < 300
    assert per_event < 1000, f"{per_event:.0f} bytes an event"
