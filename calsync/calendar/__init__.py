"""The working-day calendar's sources: State Council notices and the statutory days by law."""
