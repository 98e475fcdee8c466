file(REMOVE_RECURSE
  "libpagi_workers.a"
)
