// Anchor so the fakes library is never empty.
