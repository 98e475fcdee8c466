# A plain Plack::Builder app with common middleware, served unchanged by
# pagi-gateway and by Starman in tests/e2e/test_psgi_frameworks.py.
use strict;
use warnings;
use File::Basename qw(dirname);
use Plack::Builder;
use Plack::Request;

my $root = dirname(__FILE__);

my $api = sub {
    my $req = Plack::Request->new(shift);
    my $body = join "\n",
        'method=' . $req->method,
        'script_name=' . $req->script_name,
        'path_info=' . $req->path_info,
        'query=' . ($req->param('q') // ''),
        'content=' . $req->content,
        'cookie=' . ($req->cookies->{c} // '');
    return [ 200, [ 'Content-Type' => 'text/plain' ], [ $body ] ];
};

my $big = sub {
    return [ 200, [ 'Content-Type' => 'text/plain' ], [ join '', map { "line $_ of a body worth compressing\n" } 1 .. 500 ] ];
};

builder {
    enable 'ContentLength';
    enable 'Head';
    enable 'ConditionalGET';
    enable 'CrossOrigin', origins => '*';
    enable 'Deflater', content_type => ['text/plain'];
    enable 'Static', path => qr{^/static/}, root => $root;
    mount '/api' => $api;
    mount '/big' => $big;
    mount '/' => sub { [ 200, [ 'Content-Type' => 'text/plain', 'Last-Modified' => 'Mon, 01 Jan 2024 00:00:00 GMT' ], [ 'home' ] ] };
};
