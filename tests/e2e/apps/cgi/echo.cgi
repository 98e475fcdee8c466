#!/usr/bin/perl
# Echoes the CGI environment and the request body.
use strict;
use warnings;
binmode STDOUT;
my $len = $ENV{CONTENT_LENGTH} // 0;
my $body = '';
while (length $body < $len) { my $n = read(STDIN, $body, $len - length $body, length $body) or last }
print "Content-Type: text/plain\r\nX-Script: echo\r\n\r\n";
print "$_=$ENV{$_}\n" for grep { /^(?:GATEWAY_INTERFACE|REQUEST_METHOD|SCRIPT_NAME|PATH_INFO|QUERY_STRING|CONTENT_LENGTH|CONTENT_TYPE|SERVER_PROTOCOL|REMOTE_ADDR|HTTP_X_TEST|SERVER_NAME|SERVER_PORT|REQUEST_URI)$/ } sort keys %ENV;
print "BODY=$body\n";
