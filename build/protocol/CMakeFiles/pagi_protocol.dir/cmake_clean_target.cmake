file(REMOVE_RECURSE
  "libpagi_protocol.a"
)
