# The plain-body path of $send (HttpScope::_send_body): chunks that fit
# the send window go out through the context's send_body at once with the
# shared done future; a chunk that does not fit waits for credit; the final
# chunk completes the response; transport numbers follow every chunk.
use strict;
use warnings;
use Test::More;
use Future;
use PAGI::Gateway::Worker::HttpScope;

my (@bodies, @msgs);
my $ctx = {
    send      => sub { push @msgs, $_[0] },
    send_body => sub { push @bodies, [@_] },
    log       => sub { },
    finished  => sub { },
    settings  => { sendWindow => 100, receiveWindow => 100, maxMessageBytes => 1 << 20 },
};
my $s = PAGI::Gateway::Worker::HttpScope::_open({ scope => 7 }, $ctx, { type => 'http' });
my ($send, $app_done) = (undef, Future->new);
PAGI::Gateway::Worker::HttpScope::run($s, sub { $send = $_[2]; $app_done });
my $t = $s->{scope}{'pagi.transport'};

ok $send->({ type => 'http.response.start', status => 200, headers => [] })->is_done, 'start';
my $chunk = 'a' x 40;
my $f1 = $send->({ type => 'http.response.body', body => $chunk, more => 1 });
my $f2 = $send->({ type => 'http.response.body', body => $chunk, more => 1 });
ok $f1->is_done && $f2->is_done, 'chunks within the window are done at once';
is $f1, $f2, 'the shared done future';
is_deeply \@bodies, [ [ 7, $chunk, 1 ], [ 7, $chunk, 1 ] ], 'sent through send_body with (id, body, 1)';
is $t->buffered_amount, 80, 'buffered amount follows';
is $chunk, 'a' x 40, "the app's string is untouched";

my $f3 = $send->({ type => 'http.response.body', body => $chunk, more => 1 });
ok !$f3->is_ready, 'a chunk over the window waits';
is scalar @bodies, 2, 'and is not sent yet';
$s->on_message({ type => 'credit', bytes => 80 });
ok $f3->is_done, 'credit releases it';
is_deeply $bodies[-1], [ 7, $chunk, 1 ], 'the woken chunk goes out through send_body too';
is scalar(grep { $_->{type} eq 'httpResponseBody' } @msgs), 0, 'not through the generic send';
is $t->buffered_amount, 40, 'buffered after credit and the released chunk';

ok !$s->{conn}->response_complete, 'not complete before the final chunk';
ok $send->({ type => 'http.response.body', body => 'end', more => 0 })->is_done, 'final chunk';
ok $s->{conn}->response_complete, 'the final chunk completes the response';
my $late = $send->({ type => 'http.response.body', body => 'x', more => 1 });
ok $late->is_failed, 'a body after the final chunk fails';
like +($late->failure)[0], qr/after the response completed/, 'with the usual message';

# A wide-character body does not take the fast path: the validator refuses it.
my $s2 = PAGI::Gateway::Worker::HttpScope::_open({ scope => 8 }, $ctx, { type => 'http' });
my $send2;
PAGI::Gateway::Worker::HttpScope::run($s2, sub { $send2 = $_[2]; Future->new });
$send2->({ type => 'http.response.start', status => 200, headers => [] });
my $n = @bodies + @msgs;
ok $send2->({ type => 'http.response.body', body => "\x{263a}", more => 1 })->is_failed, 'wide characters fail';
is @bodies + @msgs, $n, 'and send nothing';
done_testing;
