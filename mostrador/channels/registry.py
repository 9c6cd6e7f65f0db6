"""Channel adapters by kind. Each channel's AppConfig.ready() calls :func:`register`."""

from __future__ import annotations

from mostrador.channels.base import ChannelAdapter

_adapters: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> None:
    if not adapter.kind:
        raise ValueError(f"{type(adapter).__name__} has no kind")
    _adapters[adapter.kind] = adapter


def get_adapter(kind: str) -> ChannelAdapter:
    try:
        return _adapters[kind]
    except KeyError:
        raise LookupError(f"no channel adapter is registered for {kind!r}") from None


def all_adapters() -> list[ChannelAdapter]:
    return list(_adapters.values())
