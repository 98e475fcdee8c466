file(REMOVE_RECURSE
  "libpagi_gateway_lib.a"
)
