"""The store tests run twice: images on ``file://`` (the default) and on a real S3 server.

``asset_backend`` is autouse and parametrised here; on ``s3`` it points ``[storage] url`` (by
environment, so CLI subprocesses follow) at a fresh prefix of the session's SeaweedFS.
"""

from __future__ import annotations

import pytest

#: Tests about the file backend's own mechanics (temp files on disk, the folder layout, the
#: schema): an object store has no temp files (a PUT is atomic) and no folder to inspect.
FILE_ONLY_MODULES = {"tests.store.test_assets", "tests.store.test_migrations"}
FILE_ONLY_TESTS = {
    "test_sigkill_while_storing_leaves_no_half_written_asset",  # looks for .tmp files on disk
    "test_a_live_writers_temp_file_and_running_row_survive_other_starts",  # same
    "test_liveness_tells_a_reused_pid_and_other_hosts_apart",  # no store at all
    "test_eight_simultaneous_first_starts_all_succeed",  # `ls` only: stores no image
    # 160 generations with a lister: the S3 variant is tests/storage/test_many_writers.py
    # (twenty processes on PostgreSQL + S3), so the store suite stays quick.
    "test_eight_writers_and_a_lister_lose_nothing",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "asset_backend" not in metafunc.fixturenames:
        return
    if (metafunc.module.__name__ in FILE_ONLY_MODULES
            or metafunc.function.__name__ in FILE_ONLY_TESTS):
        return
    metafunc.parametrize("asset_backend", ["file", "s3"], indirect=True)


@pytest.fixture(autouse=True)
def asset_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``file`` or ``s3``: where this test's images live."""
    backend = str(getattr(request, "param", "file"))
    if backend == "s3":
        monkeypatch.setenv("CHATIMG_STORAGE__URL", str(request.getfixturevalue("s3_url")))
    return backend
