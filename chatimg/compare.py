"""Compare 2 to 4 images of one conversation: parameters, differences, similarity.

What is compared are images: a generation id (its first image) or ``GENERATION#k`` (its k-th
image, counted from 1 as the cards label them), so two images of one generation can be
compared too (``ImageRef``).

Pure domain logic shared by ``chatimg compare`` and the TUI's compare screen (no Textual).

Similarity (SSIM and dHash distance) is computed by ``chatimg.similarity``; see there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatimg import domain
from chatimg.errors import InvalidRequestError
from chatimg.similarity import (  # noqa: F401 - re-exported: callers use chatimg.compare
    SIMILARITY_METHODS,
    SSIM_MAX_SIDE,
    dhash,
    dhash_distance,
    difference_image,
    match_sizes,
    ssim,
)

if TYPE_CHECKING:
    from PIL.Image import Image

    from chatimg.studio import Studio

MIN_ITEMS = 2
MAX_ITEMS = 4

#: Parameter rows in display order: key → label.
PARAM_LABELS: dict[str, str] = {
    "model": "model", "version": "version", "status": "status", "seed": "seed", "size": "size",
    "steps": "steps", "guidance": "guidance", "scheduler": "scheduler",
    "latency": "latency", "cost": "cost",
}


@dataclass(frozen=True)
class ImageRef:
    """One image: a generation and the index (from 0) of one of its images.

    Its text form is the generation id for the first image and ``ID#k`` (k from 1) for the
    others, so a reference to a first image is just a generation id, as before.
    """

    generation_id: str
    image: int = 0

    def __str__(self) -> str:
        return self.generation_id if self.image == 0 else f"{self.generation_id}#{self.image + 1}"

    @classmethod
    def parse(cls, text: str | ImageRef) -> ImageRef:
        """``ID`` or ``ID#k`` (k from 1) as a reference.

        Raises:
            InvalidRequestError: ``#`` not followed by a positive number.
        """
        if isinstance(text, ImageRef):
            return text
        generation_id, mark, number = text.partition("#")
        if not mark:
            return cls(text)
        if not number.isdigit() or int(number) < 1:
            raise InvalidRequestError(f"{text!r}: write an image as GENERATION#k with k from 1")
        return cls(generation_id, int(number) - 1)


@dataclass(frozen=True)
class ParamRow:
    """One parameter across the compared generations."""

    key: str
    label: str
    values: tuple[str, ...]

    @property
    def differs(self) -> bool:
        """Whether the generations disagree on this parameter."""
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class CompareItem:
    """One compared image (``image`` of ``generation``) and what can be shown for it.

    ``state`` is ``ok`` (image file present), ``failed`` (no image: ``note`` holds the error),
    or ``missing`` (the asset file is gone: ``note`` is ``"missing"``).
    """

    generation: domain.Generation
    state: str
    note: str = ""
    image_path: Path | None = None
    image: int = 0

    @property
    def id(self) -> str:
        """The image's reference (``ImageRef`` text: the generation id for a first image)."""
        return str(ImageRef(self.generation.id, self.image))

    @property
    def ref(self) -> ImageRef:
        return ImageRef(self.generation.id, self.image)

    @property
    def model(self) -> str:
        g = self.generation
        return g.resolved_model or g.requested_model


@dataclass(frozen=True)
class PairScore:
    """How alike two compared images are (``None`` when either has no image)."""

    a: str
    b: str
    ssim: float | None
    dhash_distance: int | None

    def short(self) -> str:
        """``SSIM 0.912 · dHash 7/64`` (or ``n/a``)."""
        if self.ssim is None or self.dhash_distance is None:
            return "n/a"
        return f"SSIM {self.ssim:.3f} · dHash {self.dhash_distance}/64"


@dataclass(frozen=True)
class Comparison:
    """Generations from one conversation, with their parameter table."""

    conversation_id: str
    items: tuple[CompareItem, ...]
    rows: tuple[ParamRow, ...] = field(default=())
    prompt: ParamRow | None = None
    """Each generation's prompt (its message's text); listed first when asked for."""

    @property
    def generation_ids(self) -> list[str]:
        """The compared images' generations, in order (one repeats when two of its images are
        compared)."""
        return [item.generation.id for item in self.items]

    @property
    def image_ids(self) -> list[str]:
        """The compared images' references (``ImageRef`` text), in order."""
        return [item.id for item in self.items]

    def _with_prompt(self, include_prompt: bool) -> tuple[ParamRow, ...]:
        if include_prompt and self.prompt is not None:
            return (self.prompt, *self.rows)
        return self.rows

    def shared_rows(self, include_prompt: bool = False) -> list[ParamRow]:
        """Parameters every generation agrees on (shown once); the prompt first if asked."""
        return [row for row in self._with_prompt(include_prompt) if not row.differs]

    def differing_rows(self, include_prompt: bool = False) -> list[ParamRow]:
        """Parameters the generations disagree on (shown per pane); the prompt first if asked."""
        return [row for row in self._with_prompt(include_prompt) if row.differs]

    def index_of(self, image_id: str) -> int:
        """Position of a compared image (its ``ImageRef`` text)."""
        return self.image_ids.index(str(ImageRef.parse(image_id)))


def load_comparison(studio: Studio,
                    image_ids: list[str] | tuple[str, ...] | list[ImageRef]) -> Comparison:
    """Load 2 to 4 images (generation ids or ``ID#k``) of one conversation for comparison.

    Raises:
        InvalidRequestError: too few or too many ids, repeated ids, no such image, or several
            conversations.
        NotFoundError: an id does not exist.
    """
    refs = [ImageRef.parse(text) for text in image_ids]
    if not MIN_ITEMS <= len(refs) <= MAX_ITEMS:
        raise InvalidRequestError(
            f"compare takes {MIN_ITEMS} to {MAX_ITEMS} generations, not {len(refs)}"
        )
    repeated = [str(ref) for ref, n in Counter(refs).items() if n > 1]
    if repeated:
        raise InvalidRequestError(f"generation {repeated[0]!r} is listed twice")
    ids = list(dict.fromkeys(ref.generation_id for ref in refs))
    by_id = {g.id: g for g in studio.get_generations(ids)}
    generations = [by_id[ref.generation_id] for ref in refs]
    conversations = {gid: studio.repo.conversation_of_generation(gid) for gid in ids}
    distinct = sorted(set(conversations.values()))
    if len(distinct) != 1:
        raise InvalidRequestError(
            f"the generations come from {len(distinct)} conversations; compare works within one",
            "pick generations of a single conversation (chatimg show ID lists them)",
        )
    items = tuple(_item(g, ref.image) for g, ref in zip(generations, refs, strict=True))
    texts: dict[str, str] = {}
    for generation in generations:
        if generation.message_id not in texts:
            texts[generation.message_id] = studio.repo.get_message(generation.message_id).text
    prompt = prompt_row([texts[g.message_id] for g in generations])
    return Comparison(distinct[0], items, tuple(param_rows(list(items))), prompt)


def prompt_row(prompts: list[str]) -> ParamRow:
    """The prompts of the compared generations as a row (whitespace runs count as one space)."""
    return ParamRow("prompt", "prompt", tuple(" ".join(text.split()) or "-" for text in prompts))


def _item(generation: domain.Generation, image: int = 0) -> CompareItem:
    if image and image >= len(generation.assets):
        raise InvalidRequestError(
            f"generation {generation.id[:12]} has {len(generation.assets)} image(s); "
            f"there is no image {image + 1}")
    if generation.status != "succeeded" or not generation.assets:
        error = generation.error or (
            "no image" if generation.status == "succeeded" else generation.status
        )
        return CompareItem(generation, "failed", error, image=image)
    path = Path(generation.assets[image].path)
    if not path.is_file():
        return CompareItem(generation, "missing", "missing", image=image)
    return CompareItem(generation, "ok", "", path, image)


# -- parameters --------------------------------------------------------------------------------

def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _latency(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _cost(generation: domain.Generation) -> str:
    if generation.cost_usd is None:
        return "-"
    text = f"${generation.cost_usd:.4f}".rstrip("0").rstrip(".")
    if text == "$":
        text = "$0"
    return ("~" if generation.cost_estimated else "") + text


def generation_seed(generation: domain.Generation, image: int = 0) -> int | None:
    """The seed actually used (for image ``image``), else the requested one."""
    if image < len(generation.assets) and generation.assets[image].seed is not None:
        return generation.assets[image].seed
    seed = generation.params.get("seed")
    return int(seed) if isinstance(seed, int) else None


def generation_size(generation: domain.Generation, image: int = 0) -> str:
    """``WxH`` of image ``image``, else the requested size, else ``-``."""
    if image < len(generation.assets):
        asset = generation.assets[image]
        return f"{asset.width}x{asset.height}"
    width, height = generation.params.get("width"), generation.params.get("height")
    return f"{width}x{height}" if width and height else "-"


def param_values(generation: domain.Generation, image: int = 0) -> dict[str, str]:
    """Display values of one image's parameters, keyed like ``PARAM_LABELS``."""
    params = generation.params
    return {
        "model": generation.resolved_model or generation.requested_model,
        "version": generation.model_version or "-",
        "status": generation.status,
        "seed": _number(generation_seed(generation, image)),
        "size": generation_size(generation, image),
        "steps": _number(params.get("steps")),
        "guidance": _number(params.get("guidance")),
        "scheduler": _number(params.get("scheduler")),
        "latency": _latency(generation.latency_ms),
        "cost": _cost(generation),
    }


def _checks(generation: domain.Generation, image: int = 0) -> dict[str, str]:
    found: dict[str, str] = {}
    sha = generation.assets[image].sha256 if image < len(generation.assets) else None
    for check in generation.validations:
        if sha is not None and check.asset_sha256 != sha:
            continue
        score = "" if check.score is None else f" {check.score:.2f}"
        found[check.name] = ("pass" if check.passed else "FAIL") + score
    return found


def param_rows(items: list[domain.Generation] | list[CompareItem]) -> list[ParamRow]:
    """The parameter table: one row per parameter and validation check, values per image
    (a generation stands for its first image)."""
    pairs = [(item.generation, item.image) if isinstance(item, CompareItem) else (item, 0)
             for item in items]
    values = [param_values(g, image) for g, image in pairs]
    rows = [
        ParamRow(key, label, tuple(v[key] for v in values)) for key, label in PARAM_LABELS.items()
    ]
    checks = [_checks(g, image) for g, image in pairs]
    names = sorted({name for found in checks for name in found})
    rows.extend(
        ParamRow(f"check:{name}", f"check {name}", tuple(found.get(name, "-") for found in checks))
        for name in names
    )
    return rows


# -- images ------------------------------------------------------------------------------------

def load_image(item: CompareItem) -> Image | None:
    """The item's image as RGB, or ``None`` when it has none or cannot be read."""
    if item.image_path is None:
        return None
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(item.image_path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError):
        return None


def pair_score(a_id: str, a: Image | None, b_id: str, b: Image | None) -> PairScore:
    """SSIM and dHash distance of two images (``None`` values when either is absent)."""
    if a is None or b is None:
        return PairScore(a_id, b_id, None, None)
    return PairScore(a_id, b_id, ssim(a, b), dhash_distance(a, b))


def similarity_scores(
    comparison: Comparison, images: list[Image | None] | None = None
) -> list[PairScore]:
    """A score for every pair of compared generations, in order (1-2, 1-3, ..., 3-4)."""
    loaded = images if images is not None else [load_image(item) for item in comparison.items]
    pairs = combinations(range(len(comparison.items)), 2)
    return [
        pair_score(comparison.items[i].id, loaded[i], comparison.items[j].id, loaded[j])
        for i, j in pairs
    ]


# -- results -----------------------------------------------------------------------------------

def continue_params(generation: domain.Generation, image: int = 0) -> dict[str, Any]:
    """What "continue from this one" hands the composer (``image``: whose seed).

    Returns:
        ``{"generation_id": str, "model": str, "seed": int | None, "params": dict}`` where
        ``params`` is the stored form of the spec that ran (``GenerationSpec.stored``).
    """
    return {
        "generation_id": generation.id,
        "model": generation.model,
        "seed": generation_seed(generation, image),
        "params": generation.ran.stored(),
    }


def message_compare_ids(message: domain.Message) -> list[str]:
    """The generations of a fanned-out message to compare (the "compare" action on a message).

    All of them when there are 2 to 4; with more, succeeded ones first, then the rest, up to 4.

    Raises:
        InvalidRequestError: the message has fewer than two generations.
    """
    generations = list(message.generations)
    if len(generations) < MIN_ITEMS:
        raise InvalidRequestError(
            "this message has fewer than two images to compare",
            "fan it out to more models, or pick cards from several messages",
        )
    if len(generations) > MAX_ITEMS:
        generations.sort(key=lambda g: g.status != "succeeded")
    return [g.id for g in generations[:MAX_ITEMS]]


def winners_by_generation(thread: domain.Thread) -> dict[str, int]:
    """How many times each generation of ``thread`` won a comparison (winners only)."""
    return dict(Counter(pick.winner_id for pick in thread.picks))


def comparison_json(comparison: Comparison, scores: list[PairScore]) -> dict[str, Any]:
    """The metadata diff and similarity scores as JSON-ready data."""
    return {
        "conversation_id": comparison.conversation_id,
        "generations": [
            {"id": item.id, "model": item.model, "state": item.state,
             "note": item.note or None,
             "path": str(item.image_path) if item.image_path else None}
            for item in comparison.items
        ],
        "shared": {row.key: row.values[0] for row in comparison.shared_rows(True)},
        "differs": {
            row.key: dict(zip(comparison.image_ids, row.values, strict=True))
            for row in comparison.differing_rows(True)
        },
        "similarity": {
            "methods": SIMILARITY_METHODS,
            "pairs": [
                {"a": s.a, "b": s.b, "ssim": s.ssim, "dhash_distance": s.dhash_distance}
                for s in scores
            ],
        },
    }
