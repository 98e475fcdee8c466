# A small Dancer2 app, served unchanged by pagi-gateway and by Starman in
# tests/e2e/test_psgi_frameworks.py.
use strict;
use warnings;
use Dancer2;

set logger => 'null';

get '/' => sub { content_type 'text/plain'; 'Hello from Dancer2' };
get '/hello/:name' => sub { content_type 'text/plain'; 'Hello, ' . route_parameters->get('name') . '!' };
get '/query' => sub { content_type 'text/plain'; join ',', map { "$_=" . query_parameters->get($_) } sort keys %{ query_parameters->as_hashref } };
post '/form' => sub { content_type 'text/plain'; 'name=' . (body_parameters->get('name') // '') . ' size=' . length(request->body) };
get '/json' => sub { content_type 'application/json'; '{"framework":"Dancer2","ok":true}' };
get '/old' => sub { redirect '/hello/redirected' };
get '/status' => sub { status 418; content_type 'text/plain'; 'teapot' };
get '/headers' => sub { content_type 'text/plain'; 'ua=' . (request->user_agent // '') . ' x=' . (request->header('X-Custom') // '') };

to_app;
