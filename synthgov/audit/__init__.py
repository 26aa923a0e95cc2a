"""The audit: replaying the merged history, checkpoints, and the evidence pack for auditors."""
