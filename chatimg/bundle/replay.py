"""Replay a thread from its receipts and compare every image with the one stored.

Each image is ``identical`` (same sha256 as stored), ``near`` (grayscale SSIM at or above a
threshold), ``different``, or ``non-deterministic`` when the provider does not promise the same
bytes (those never count as failures). Generations that did not succeed are ``skipped``; a
replay that cannot run is an ``error``. A bundle file is imported into a throw-away database and
asset store in a temporary folder, so replaying a teammate's bundle leaves your history alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg.errors import ChatImgError
from chatimg.similarity import SIMILARITY_METHODS
from chatimg.similarity import ssim as similarity_ssim

if TYPE_CHECKING:
    from chatimg import domain
    from chatimg.studio import Studio

DEFAULT_THRESHOLD = 0.98
MEASURE = "ssim-grayscale"
MEASURE_TEXT = SIMILARITY_METHODS["ssim"]

ReplayProgress = Callable[[str], None]


@dataclass(frozen=True)
class ImageOutcome:
    """The verdict on one image (or one skipped generation, with ``index`` None)."""

    message_number: int
    generation_id: str
    model: str
    replay_model: str | None
    index: int | None
    status: str
    """``identical``, ``near``, ``different``, ``non-deterministic``, ``skipped`` or ``error``."""
    similarity: float | None = None
    stored_sha256: str | None = None
    replay_sha256: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ReplayReport:
    """Every verdict of one replay."""

    conversation_id: str
    source: str
    measure: str
    threshold: float
    results: tuple[ImageOutcome, ...]

    def counts(self) -> dict[str, int]:
        names = ("identical", "near", "different", "non-deterministic", "skipped", "error")
        counts = dict.fromkeys(names, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    def ok(self, strict: bool = False) -> bool:
        """True when nothing differs (``near`` counts as differing only when strict)."""
        failing = {"different", "error"} | ({"near"} if strict else set())
        return not any(result.status in failing for result in self.results)

    def summary(self, strict: bool = False) -> str:
        counts = self.counts()
        parts = ", ".join(f"{n} {name}" for name, n in counts.items())
        return f"summary: {parts} -> {'OK' if self.ok(strict) else 'DIFFERS'}"

    def as_dict(self, strict: bool = False) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id, "source": self.source,
            "measure": self.measure, "measure_description": MEASURE_TEXT,
            "threshold": self.threshold, "results": [asdict(r) for r in self.results],
            "summary": self.counts(), "ok": self.ok(strict), "strict": strict,
        }


def ssim(first: Any, second: Any) -> float:
    """Mean SSIM of two grayscale arrays (0-255): the measure ``chatimg compare`` uses too."""
    import numpy as np
    from PIL import Image

    def gray(values: Any) -> Any:
        return Image.fromarray(np.clip(np.asarray(values), 0, 255).astype(np.uint8), "L")

    return similarity_ssim(gray(first), gray(second))


def compare_images(stored: bytes, replayed: bytes) -> tuple[float | None, str | None]:
    """Similarity of two encoded images, or (None, reason) when they cannot be compared."""
    from PIL import Image

    with Image.open(io.BytesIO(stored)) as a, Image.open(io.BytesIO(replayed)) as b:
        if a.size != b.size:
            return None, f"size {a.size[0]}x{a.size[1]} became {b.size[0]}x{b.size[1]}"
        return similarity_ssim(a, b), None


def _deterministic(generation: domain.Generation, studio: Studio, model: str) -> bool:
    receipt = generation.receipt
    if receipt is not None and not receipt.deterministic:
        return False
    with contextlib.suppress(ChatImgError):
        caps = studio.engine(model).info.capabilities
        return bool(caps.deterministic and caps.seed)
    return True


async def replay_conversation(
    studio: Studio, conversation_id: str, *, model: str | None = None,
    threshold: float = DEFAULT_THRESHOLD, progress: ReplayProgress | None = None,
    source: str | None = None,
) -> ReplayReport:
    """Re-run every generation of a conversation and compare its images with the stored ones.

    Args:
        studio: Where the conversation is stored.
        conversation_id: The conversation.
        model: Run every generation on this model instead of the one in its receipt.
        threshold: SSIM at or above which a changed image is ``near``.
        progress: Called with a short status line before each generation.
        source: What to call the replayed thing in the report (default: the id).
    """
    thread = studio.load_thread(conversation_id)
    _refuse_damaged(thread)
    results: list[ImageOutcome] = []
    generations = [(n, g) for n, m in enumerate(thread.messages, 1) for g in m.generations]
    for position, (number, g) in enumerate(generations, 1):
        stored_model = g.resolved_model or g.requested_model
        if g.status != "succeeded":
            results.append(ImageOutcome(number, g.id, stored_model, None, None, "skipped",
                                        note=f"{g.status}: not replayed"))
            continue
        if progress is not None:
            progress(f"replaying {position}/{len(generations)}: {model or stored_model}")
        results.extend(await _replay_one(studio, number, g, model, threshold))
    return ReplayReport(conversation_id, source or conversation_id, MEASURE, threshold,
                        tuple(results))


def _refuse_damaged(thread: domain.Thread) -> None:
    """Hash every stored image first: a replay that matches a damaged store is no proof.

    Raises:
        StoreError: an image file is missing or does not match its sha256 (named).
    """
    from chatimg.doctor import file_state
    from chatimg.errors import StoreError

    for message in thread.messages:
        for generation in message.generations:
            for asset in generation.assets:
                state = file_state(Path(asset.path), asset.sha256, asset.bytes)
                if state is not None:
                    raise StoreError(
                        f"image {asset.sha256[:12]} of generation {generation.id} is {state}: "
                        f"{asset.path}", "run `chatimg doctor --repair` first")


async def _replay_one(studio: Studio, number: int, g: domain.Generation, model: str | None,
                      threshold: float) -> list[ImageOutcome]:
    stored_model = g.resolved_model or g.requested_model
    try:
        name, encoded = await studio.regenerate(g.id, model=model)
    except ChatImgError as exc:
        return [ImageOutcome(number, g.id, stored_model, model or stored_model, None, "error",
                             note=studio.scrub(exc.one_line()))]
    deterministic = _deterministic(g, studio, name)
    changed = _version_change(studio, g, name)
    stored = sorted(g.assets, key=lambda a: a.index)
    out: list[ImageOutcome] = []
    for index in range(max(len(stored), len(encoded))):
        asset = stored[index] if index < len(stored) else None
        data = encoded[index] if index < len(encoded) else None
        replay_sha = hashlib.sha256(data).hexdigest() if data is not None else None

        def verdict(status: str, similarity: float | None = None, note: str | None = None,
                    asset: Any = asset, replay_sha: str | None = replay_sha,
                    index: int = index) -> ImageOutcome:
            return ImageOutcome(number, g.id, stored_model, name, index, status, similarity,
                                asset.sha256 if asset else None, replay_sha, note)

        if asset is None or data is None:
            note = "no stored image" if asset is None else "the replay gave no image"
            out.append(verdict("non-deterministic" if not deterministic else "different",
                               note=note))
            continue
        if replay_sha == asset.sha256:
            out.append(verdict("identical", 1.0))
            continue
        try:
            similarity, reason = compare_images(Path(asset.path).read_bytes(), data)
        except OSError:
            out.append(verdict("error", note="stored image file is missing"))
            continue
        if not deterministic:
            out.append(verdict("non-deterministic", similarity,
                               "non-deterministic provider: not a failure"))
        elif similarity is not None and similarity >= threshold:
            out.append(verdict("near", similarity, _joined(reason, changed)))
        else:
            out.append(verdict("different", similarity, _joined(reason, changed)))
    return out


def _version_change(studio: Studio, g: domain.Generation, name: str) -> str | None:
    """``model version changed: A -> B`` when the model now reports another version."""
    if name != (g.resolved_model or g.requested_model) or not g.model_version:
        return None
    try:
        now = studio.engine(name).info.version
    except ChatImgError:
        return None
    return f"model version changed: {g.model_version} -> {now}" if (
        now and now != g.model_version) else None


def _joined(*notes: str | None) -> str | None:
    return "; ".join(note for note in notes if note) or None


async def replay_target(
    studio: Studio, target: str, *, model: str | None = None,
    threshold: float = DEFAULT_THRESHOLD, progress: ReplayProgress | None = None,
) -> ReplayReport:
    """Replay a conversation id, or a bundle file imported into a temporary store."""
    path = Path(target).expanduser()
    try:
        if path.is_file():
            return await _replay_file(studio, path, model, threshold, progress)
        return await replay_conversation(studio, target, model=model, threshold=threshold,
                                         progress=progress)
    finally:
        await studio.close_engines()


async def _replay_file(studio: Studio, path: Path, model: str | None, threshold: float,
                       progress: ReplayProgress | None) -> ReplayReport:
    from chatimg.bundle.importer import import_bundle
    from chatimg.store.assets import AssetStore
    from chatimg.store.database import Database
    from chatimg.studio import Studio

    with tempfile.TemporaryDirectory(prefix="chatimg-replay-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'replay.db'}")
        database.ensure_current()
        scratch = Studio(studio.settings, database, AssetStore(Path(folder) / "assets"))
        try:
            imported = import_bundle(scratch, path)
            return await replay_conversation(
                scratch, imported.conversation_id, model=model, threshold=threshold,
                progress=progress, source=str(path),
            )
        finally:
            await scratch.aclose()


def format_report(report: ReplayReport, strict: bool = False) -> list[str]:
    """Lines for the terminal: one per image, then the summary."""
    lines = [
        f"replay of {report.source} (conversation {report.conversation_id});"
        f" similarity: {MEASURE_TEXT}, near at >= {report.threshold:g}",
    ]
    for r in report.results:
        model = r.model if r.replay_model in (None, r.model) else f"{r.model} -> {r.replay_model}"
        image = f"image {r.index}" if r.index is not None else "-"
        similarity = f" ssim={r.similarity:.4f}" if r.similarity is not None else ""
        note = f" ({r.note})" if r.note else ""
        lines.append(f"  #{r.message_number} {model} {r.generation_id} {image}: "
                     f"{r.status}{similarity}{note}")
    lines.append(report.summary(strict))
    return lines
