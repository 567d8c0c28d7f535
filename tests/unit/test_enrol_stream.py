"""A big run is enrolled and queued in chunks as the pages of the bulk read come in, without
ever finishing before the last page is read, and without one long Redis command."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from payroll_sync.producer.enrol import ENQUEUE_CHUNK, Entry, RunSpec, enrol_stream
from payroll_sync.runs.store import ENROL_CHUNK, RunStore
from payroll_sync.schemas.messages import Task
from tests.support.runs import INTEGRATION, NOW, employee_snapshot, employee_task, outcome_of

PAGE = 600
PAGES = 5
SPEC = RunSpec(integration=INTEGRATION, kind="employees", trigger="manual")


class Pages:
    """A bulk read of PAGES pages, noting how many had been read at each point."""

    def __init__(self) -> None:
        self.read = 0

    async def chunks(self) -> AsyncIterator[Sequence[Entry]]:
        for page in range(PAGES):
            self.read += 1
            numbers = [str(10_000 + page * PAGE + i) for i in range(PAGE)]
            yield [(employee_task("", n), employee_snapshot(n)) for n in numbers]


class InstantWorkers:
    """An enqueue whose workers finish every task the moment it is sent: the worst case for a
    run that is still being enrolled."""

    def __init__(self, store: RunStore, pages: Pages) -> None:
        self.store = store
        self.pages = pages
        self.calls: list[tuple[int, int]] = []  # (tasks, pages read by then)

    async def __call__(self, tasks: Sequence[Task]) -> None:
        assert len(tasks) <= ENQUEUE_CHUNK
        self.calls.append((len(tasks), self.pages.read))
        for task in tasks:
            outcome = outcome_of(task.key, "created")
            assert await self.store.record(task.run_id, INTEGRATION, "employees", outcome)


async def test_tasks_go_out_in_chunks_as_pages_come_and_the_run_holds_them_all(
    store: RunStore,
) -> None:
    pages = Pages()
    workers = InstantWorkers(store, pages)

    expansion = await enrol_stream(SPEC, pages.chunks(), store=store, enqueue=workers, now=NOW)

    total = PAGE * PAGES
    assert (expansion.in_scope, expansion.enqueued, expansion.joined) == (total, total, False)
    assert sum(size for size, _ in workers.calls) == total
    # The first tasks left before the last page was read.
    assert workers.calls[0][1] < PAGES
    # One run holds every record, though the first were done before the last were enrolled.
    run = await store.get_run(expansion.run_id)
    assert run is not None
    assert (run.status, run.total, run.counts["created"]) == ("done", total, total)


async def test_enrolling_a_big_chunk_takes_several_short_script_calls(store: RunStore) -> None:
    run_id = await store.create_run(
        integration=INTEGRATION, kind="employees", trigger="manual", dry_run=False, now=NOW
    )
    sizes: list[int] = []
    script = store._enrol

    async def counted(**kwargs: object) -> object:
        sizes.append(len(kwargs["rest"]) // 3)  # type: ignore[arg-type]
        return await script(**kwargs)  # type: ignore[arg-type]

    store._enrol = counted  # type: ignore[assignment]
    count = 2 * ENROL_CHUNK + 7
    numbers = [str(20_000 + i) for i in range(count)]
    entries = [(employee_task(run_id, n), employee_snapshot(n)) for n in numbers]

    enrolled = await store.enrol(run_id, entries, read_at=NOW)

    assert enrolled is not None
    assert enrolled.enqueue == numbers
    assert sizes == [ENROL_CHUNK, ENROL_CHUNK, 7]
    run = await store.get_run(run_id)
    assert run is not None
    assert run.total == count
