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
