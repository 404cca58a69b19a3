"""Models of this stage come with its issue."""
