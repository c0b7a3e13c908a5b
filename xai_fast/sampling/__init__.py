"""Coalition designs: which coalitions to evaluate and with what weight."""

from .plan import DesignPlan, plan_design

__all__ = ["DesignPlan", "plan_design"]
