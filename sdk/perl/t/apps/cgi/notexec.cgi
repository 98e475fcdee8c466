Content-Type: text/plain

not executable
