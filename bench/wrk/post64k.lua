-- POST / with a 64 KiB body on every request (echo scenario). wrk builds
-- the request once, so the body costs wrk no per-request work.
wrk.method = "POST"
wrk.body = string.rep("0123456789abcdef", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
