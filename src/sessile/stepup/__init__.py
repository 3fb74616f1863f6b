"""Step-up authentication and the account changes it unlocks (DESIGN §12)."""

from sessile.stepup.account import AccountChanges
from sessile.stepup.hook import DelegationHook
from sessile.stepup.service import StepUp
from sessile.stepup.tokens import StepUpTokens

__all__ = ["AccountChanges", "DelegationHook", "StepUp", "StepUpTokens"]
