"""What a rule looks at: the user, one asset and the action, as one flat object."""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = ("read", "download", "execute", "derive")


@dataclass(frozen=True)
class Asset:
    """A registered asset; `cost` is its base price in tokens per use."""

    id: str
    type: str
    tags: frozenset[str]
    cost: int = 1


class Subject:
    """One (user, asset, action) triple; slots keep attribute reads cheap in the hot loop."""

    __slots__ = (
        "action",
        "asset_id",
        "asset_tags",
        "asset_type",
        "customer_id",
        "entitlements",
        "tier",
        "token_balance",
    )

    def __init__(
        self,
        *,
        tier: str,
        token_balance: int,
        entitlements: frozenset[str],
        asset: Asset,
        action: str,
        customer_id: int | None = None,
    ) -> None:
        self.tier = tier
        self.token_balance = token_balance
        self.entitlements = entitlements
        self.asset_id = asset.id
        self.asset_type = asset.type
        self.asset_tags = asset.tags
        self.action = action
        self.customer_id = customer_id
