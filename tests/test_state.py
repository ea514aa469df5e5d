"""Per-app caches: rebuilt when the store changes, bounded, built once under concurrency."""
import threading
import time

from web.state import state


def test_cache_rebuilds_after_store_change_and_is_bounded(app):
    with app.app_context():
        st = state()
        calls = []
        first = st.cached("x", lambda: calls.append(1) or object())
        assert st.cached("x", lambda: calls.append(1) or object()) is first and len(calls) == 1
        sid = st.store.all()[0].id
        st.store.update(sid, {"name": "改名后的示例驿站"})
        assert st.cached("x", lambda: calls.append(1) or object()) is not first and len(calls) == 2
        for i in range(st.MAX_ENTRIES * 3):
            st.cached(("r", i), object)
        assert len(st._cache) <= st.MAX_ENTRIES


def test_concurrent_requests_build_once(app):
    with app.app_context():
        st = state()
        calls = []

        def slow():
            calls.append(1)
            time.sleep(0.2)
            return "value"

        results = []
        threads = [threading.Thread(target=lambda: results.append(st.cached("slow", slow))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == ["value"] * 4 and len(calls) == 1


def test_failed_builds_leave_no_lock_behind(app):
    with app.app_context():
        st = state()

        def fail():
            raise RuntimeError("build failed")

        for key in ("a", "b", "c"):
            try:
                st.cached(key, fail)
            except RuntimeError:
                pass
            else:
                raise AssertionError("the build's exception was swallowed")
        assert st._building == {}
        assert st.peek("a") is None  # a failure is not cached: the next call builds again
        assert st.cached("a", lambda: "value") == "value" and st._building == {}


def test_waiter_on_a_failing_build_gets_its_exception_and_does_not_hang(app):
    with app.app_context():
        st = state()
        started, release = threading.Event(), threading.Event()
        calls = []

        def failing():
            calls.append(1)
            started.set()
            release.wait(5)
            raise RuntimeError("build failed")

        outcomes = []

        def ask():
            try:
                outcomes.append(st.cached("slow-failure", failing))
            except RuntimeError as exc:
                outcomes.append(exc)

        leader = threading.Thread(target=ask)
        leader.start()
        assert started.wait(5)
        waiters = [threading.Thread(target=ask) for _ in range(3)]
        for t in waiters:
            t.start()
        time.sleep(0.2)  # the waiters are now waiting for the leader's build
        release.set()
        for t in [leader, *waiters]:
            t.join(5)
            assert not t.is_alive(), "a waiter hangs after the build it waited for failed"
        assert len(outcomes) == 4 and all(isinstance(o, RuntimeError) for o in outcomes)
        assert len(calls) == 1  # the waiters share the failed build instead of each retrying it
        assert st._building == {}
