// replaced by the pool implementation
