"""appliance.metrics.Tally on its own: a job announced twice is counted once, histograms cumulate, label values
stay bounded whatever a caller sends."""

from __future__ import annotations

from appliance.events import Event
from appliance.metrics import Histogram, Tally


def job(job_id: int, state: str, copies: int = 1) -> Event:
    return Event("jobs", "notify_job_updated", {"id": job_id, "state": state, "printer_id": "p", "media": "12mm",
                                                "copies": copies, "length_mm": 40.0}, job_id)


def test_a_job_counts_once_when_it_finishes() -> None:
    tally = Tally()
    for event in (job(1, "pending"), job(1, "processing"), job(1, "completed", 3), job(1, "completed", 3),
                  job(2, "canceled"), job(3, "completed")):
        tally.event(event)
    assert tally.labels == {("p", "12mm"): 4}
    assert tally.media_mm == {("p", "12mm"): 160.0}
    assert tally.jobs_finished == {("p", "completed"): 2, ("p", "canceled"): 1}
    tally.event(Event("jobs", "notify_job_updated", {"id": 4, "state": "completed", "copies": "x"}, 9))  # no raise
    tally.event(Event("queue", "notify_queue_changed", {"printers": []}, 10))
    assert tally.queue == {"printers": []}


def test_methods_a_caller_makes_up_share_one_label_and_buckets_cumulate() -> None:
    tally = Tally()
    for n in range(50):
        tally.rpc_call(f"made.up{n}", -32601, 0.3)
    tally.rpc_call("printer.status", None, 2.0)
    assert set(tally.rpc) == {("other", "method_not_found"), ("printer.status", "ok")}
    assert tally.rpc[("other", "method_not_found")].n == 50
    histogram = Histogram((0.001, 0.01))
    for seconds in (0.0005, 0.005, 0.005, 3.0):
        histogram.observe(seconds)
    assert histogram.cumulative() == [("0.001", 1), ("0.01", 3), ("+Inf", 4)]
    assert abs(histogram.total - 3.0105) < 1e-9
