-- Plain GET / on every connection (hello and stream scenarios).
wrk.method = "GET"
