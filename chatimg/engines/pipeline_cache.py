"""A least-recently-used cache of loaded diffusers pipelines, bounded by a memory budget.

One cache lives in ``EngineContext.shared`` so every ``DiffusersEngine`` instance (one per model)
shares it. Sizes are estimated from parameter and buffer counts times their element size. The
cache never imports torch itself; callers hand it loaded pipelines and a size.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatimg.engines.base import EngineContext

SHARED_KEY = "diffusers.pipelines"


@dataclass
class LoadedPipeline:
    """A pipeline in the cache, with the pipelines derived from it (same weights)."""

    pipe: Any
    size_bytes: int
    load_seconds: float
    device: str
    dtype: str
    variants: dict[str, Any] = field(default_factory=dict)
    """``img2img``/``inpaint`` pipelines made with ``from_pipe`` (they share the modules)."""
    scheduler_config: dict[str, Any] = field(default_factory=dict)
    """The scheduler config the pipeline was loaded with (new schedulers start from it)."""
    scheduler_names: tuple[str, ...] = ()
    """Class names of the compatible schedulers."""
    scheduler_class: Any = None
    """The scheduler class the pipeline was loaded with (each run's default)."""
    scheduler_templates: dict[str, Any] = field(default_factory=dict)
    """A scheduler of each class asked for, made from ``scheduler_config`` and never run:
    each run gets a copy (copying is ~10x cheaper than building one from the config)."""
    version: str | None = None


@dataclass
class CacheStats:
    """Counters for tests and benchmarks."""

    loads: int = 0
    hits: int = 0
    evictions: int = 0


def module_size_bytes(pipe: Any) -> int:
    """Bytes held by a pipeline's torch modules (parameters and buffers, each counted once)."""
    seen: set[int] = set()
    total = 0
    for component in getattr(pipe, "components", {}).values():
        tensors: list[Any] = []
        for attribute in ("parameters", "buffers"):
            method = getattr(component, attribute, None)
            if callable(method):
                try:
                    tensors.extend(method())
                except TypeError:  # not a torch module
                    continue
        for tensor in tensors:
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            total += tensor.numel() * tensor.element_size()
    return total


class PipelineCache:
    """Loaded pipelines by key, least recently used first out when over ``budget_bytes``.

    The newest pipeline always stays, even alone over budget. ``run_lock`` serialises pipeline
    calls: torch pipelines are not safe to call from two threads at once.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._entries: OrderedDict[Hashable, LoadedPipeline] = OrderedDict()
        self._lock = threading.RLock()
        self.run_lock = threading.RLock()
        self.stats = CacheStats()
        self.scheduler_names: dict[str, tuple[str, ...]] = {}
        """Source → compatible scheduler names, learned at load (kept after eviction)."""

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def keys(self) -> list[Hashable]:
        """Keys from least to most recently used."""
        with self._lock:
            return list(self._entries)

    def entries(self) -> list[LoadedPipeline]:
        """Loaded pipelines from least to most recently used."""
        with self._lock:
            return list(self._entries.values())

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(entry.size_bytes for entry in self._entries.values())

    def get_or_load(
        self, key: Hashable, loader: Callable[[], LoadedPipeline],
        expected_bytes: int | None = None,
    ) -> tuple[LoadedPipeline, bool]:
        """The cached pipeline for ``key`` (marked most recent), else ``loader()``'s.

        Args:
            key: What identifies a loaded pipeline (source, class, device, dtype).
            loader: Loads it on a miss.
            expected_bytes: An estimate of the new pipeline's size; when given, least recently
                used pipelines are evicted *before* loading so peak memory stays in budget.

        Returns:
            The entry and whether it came from the cache.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.stats.hits += 1
                return entry, True
            if expected_bytes:
                self._evict(reserve=expected_bytes)
            entry = loader()
            self._entries[key] = entry
            self.stats.loads += 1
            self._evict()
            return entry, False

    def _evict(self, reserve: int = 0) -> None:
        """Drop least recently used entries until the rest (plus ``reserve``) fit.

        Without a reserve the newest entry always stays, even alone over budget.
        """
        evicted = False
        keep = 0 if reserve else 1
        while len(self._entries) > keep and self.total_bytes + reserve > self.budget_bytes:
            _, old = self._entries.popitem(last=False)
            old.variants.clear()
            self.stats.evictions += 1
            evicted = True
        if evicted:
            _release_memory()

    def clear(self) -> None:
        """Drop every pipeline."""
        with self._lock:
            self._entries.clear()
        _release_memory()


def _release_memory() -> None:
    gc.collect()
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def shared_cache(context: EngineContext) -> PipelineCache:
    """The context's pipeline cache, made on first use with the configured budget."""
    cache = context.shared.get(SHARED_KEY)
    if cache is None:
        budget = context.settings.diffusers.memory_budget_gb
        cache = context.shared.setdefault(SHARED_KEY, PipelineCache(int(budget * 1024**3)))
    return cache  # type: ignore[no-any-return]
