"""Admin of readiness, transition, hypercare and the risk log (imported by scope.admin)."""
