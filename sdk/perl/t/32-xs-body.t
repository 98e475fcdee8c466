# The XS body path of $send (XS::http_body, pagi_send.c): with a wire in the
# context a plain body chunk that fits the window is encoded straight into
# the wire's buffer. Every scenario runs twice, with the wire and without
# (the Perl path), and must give the same frames, futures, errors, transport
# and connection state; with the accelerator, the chunks it should take must
# not reach the Perl send_body, and those it must leave to Perl must.
# Under PAGI_WORKER_PURE=1 both runs are the Perl path (the wire is unused).
use strict;
use warnings;
use Test::More;
use Future;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::HttpScope;

my $XS = PAGI::Gateway::Worker::HttpScope::XS_BODY();
diag $XS ? 'XS body path on' : 'XS body path off (pure)';

# Runs $script->($send, $s, $note) on a fresh scope; returns the trace and
# how many bodies went through the Perl send_body.
sub run_scope {
    my ($wired, $script, %opt) = @_;
    my $buf = '';
    my $perl_bodies = 0;
    my $ctx = {
        send      => sub { PAGI::Gateway::Worker::Codec::encode_into(\$buf, $_[0]) },
        send_body => sub { $perl_bodies++; PAGI::Gateway::Worker::Codec::encode_body_into(\$buf, @_) },
        send_raw  => sub { $buf .= $_[0] },
        log       => sub { },
        finished  => sub { },
        settings  => { sendWindow => 100, receiveWindow => 100, maxMessageBytes => $opt{max} // 1 << 20 },
    };
    my $wire = { out => \$buf, flush_queued => $opt{flush_queued} // 1 };
    $ctx->{wire} = $wire if $wired;
    my $s = PAGI::Gateway::Worker::HttpScope::_open({ scope => 9 }, $ctx, { type => 'http' });
    my $send;
    PAGI::Gateway::Worker::HttpScope::run($s, sub { $send = $_[2]; Future->new });
    my @trace;
    my $t = $s->{scope}{'pagi.transport'};
    unless ($opt{no_marks}) {
        $t->on_high_water(sub { push @trace, 'high' });
        $t->on_drain(sub { push @trace, 'drain' });
    }
    my $note = sub {
        my ($what, $f) = @_;
        my @frames = PAGI::Gateway::Worker::Codec::decode_frames(\$buf);
        push @trace, [ $what,
            $f ? ($f->is_done ? 'done' : $f->is_failed ? 'failed: ' . ($f->failure)[0] : 'pending') : '-',
            [ map { +{ %$_ } } @frames ], $t->buffered_amount,
            map { $s->{conn}{$_} ? 1 : 0 } qw(started complete finished) ];
    };
    $script->($send, $s, $note, $wire, \@trace);
    return (\@trace, $perl_bodies);
}

# Both runs alike; $fast: how many body chunks the XS path should take.
sub same {
    my ($name, $script, %opt) = @_;
    my ($perl, $n_perl) = run_scope(0, $script, %opt);
    my ($xs, $n_xs) = run_scope(1, $script, %opt);
    is_deeply $xs, $perl, "$name: same frames, futures and state";
    is $n_xs, $n_perl - ($XS ? $opt{fast} : 0), "$name: Perl send_body used for the rest only" if defined $opt{fast};
}

my $start = sub { $_[0]->({ type => 'http.response.start', status => 200, headers => [], %{ $_[1] || {} } }) };

same 'chunks, then the final one', sub {
    my ($send, $s, $note) = @_;
    $note->('start', $start->($send));
    my $chunk = 'a' x 30;
    $note->('c1', $send->({ type => 'http.response.body', body => $chunk, more => 1 }));
    $note->('c2', $send->({ type => 'http.response.body', body => $chunk, more => 1 }));
    is $chunk, 'a' x 30, "the app's string is untouched";
    $note->('empty', $send->({ type => 'http.response.body', body => '', more => 1 }));
    $note->('undef', $send->({ type => 'http.response.body', more => 1 }));
    $note->('number', $send->({ type => 'http.response.body', body => 12345, more => 1 }));
    $note->('extra key', $send->({ type => 'http.response.body', body => 'x', more => 1, offset => undef, foo => 1 }));
    $note->('final', $send->({ type => 'http.response.body', body => 'end' }));
    $note->('after complete', $send->({ type => 'http.response.body', body => 'x', more => 1 }));
}, fast => 7;

same 'trailers: the final body does not complete', sub {
    my ($send, $s, $note) = @_;
    $note->('start', $start->($send, { trailers => 1 }));
    $note->('final', $send->({ type => 'http.response.body', body => 'b', more => 0 }));
    $note->('trailers', $send->({ type => 'http.response.trailers', headers => [ [ 'x-t', '1' ] ] }));
}, fast => 1;

same 'before the start, bad events', sub {
    my ($send, $s, $note) = @_;
    $note->('early', $send->({ type => 'http.response.body', body => 'x', more => 1 }));
    $note->('start', $start->($send));
    $note->('blessed', eval { $send->(bless { type => 'http.response.body', body => 'x', more => 1 }, 'Ev') });
    $note->('ref body', $send->({ type => 'http.response.body', body => ['x'], more => 1 }));
    $note->('wide', $send->({ type => 'http.response.body', body => "\x{263a}", more => 1 }));
    my $u = "caf\x{e9}";
    utf8::upgrade($u);
    $note->('utf8 flag, bytes', $send->({ type => 'http.response.body', body => $u, more => 1 }));
    $note->('no type', $send->({ body => 'x', more => 1 }));
}, fast => 0;

same 'window, pending, credit, high water', sub {
    my ($send, $s, $note) = @_;
    $note->('start', $start->($send));
    $note->('60', $send->({ type => 'http.response.body', body => 'a' x 60, more => 1 }));
    $note->('30', $send->({ type => 'http.response.body', body => 'b' x 30, more => 1 }));
    $note->('10 reaches high', $send->({ type => 'http.response.body', body => 'c' x 10, more => 1 }));
    my $w = $send->({ type => 'http.response.body', body => 'd' x 20, more => 1 });
    $note->('over: waits', $w);
    $note->('behind pending', my $w2 = $send->({ type => 'http.response.body', body => 'e', more => 1 }));
    $s->on_message({ type => 'credit', bytes => 100 });
    $note->('credited', $w);
    $note->('woken 2', $w2);
    $note->('above, fits', $send->({ type => 'http.response.body', body => 'f' x 5, more => 1 }));
    $s->on_message({ type => 'credit', bytes => 26 });
    $note->('below low: drain', $send->({ type => 'http.response.body', body => 'g', more => 0 }));
}, fast => 4;

# Without on_high_water callbacks the XS path also takes the chunk that
# reaches the mark; the transport is then above it, so a later on_drain fires.
same 'high water without callbacks', sub {
    my ($send, $s, $note, $wire, $trace) = @_;
    $note->('start', $start->($send));
    $note->('60', $send->({ type => 'http.response.body', body => 'a' x 60, more => 1 }));
    $note->('40 reaches high', $send->({ type => 'http.response.body', body => 'b' x 40, more => 1 }));
    my $t = $s->{scope}{'pagi.transport'};
    $t->on_drain(sub { push @$trace, 'drain' });
    $t->on_high_water(sub { push @$trace, 'high (registered above the mark)' });
    $s->on_message({ type => 'credit', bytes => 60 });
    $note->('credited below low', undef);
    $note->('again', $send->({ type => 'http.response.body', body => 'c' x 70, more => 1 }));
}, no_marks => 1, fast => 2;

same 'over max_chunk splits', sub {
    my ($send, $s, $note) = @_;
    $note->('start', $start->($send));
    $note->('big', $send->({ type => 'http.response.body', body => 'z' x 5000, more => 1 }));
}, max => 4096 + 2048, fast => 0;

same 'fh body', sub {
    my ($send, $s, $note) = @_;
    $note->('start', $start->($send));
    open my $fh, '<', \"file bytes" or die;
    $note->('fh', $send->({ type => 'http.response.body', fh => $fh }));
}, fast => 0;

same 'no flush queued on the wire: the Perl path', sub {
    my ($send, $s, $note) = @_;
    $note->('start', $start->($send));
    $note->('c', $send->({ type => 'http.response.body', body => 'x', more => 1 }));
}, flush_queued => 0, fast => 0;

same 'after the client left', sub {
    my ($send, $s, $note) = @_;
    $note->('start', $start->($send));
    $note->('c', $send->({ type => 'http.response.body', body => 'x', more => 1 }));
    $s->on_message({ type => 'httpDisconnect', reason => 'client_closed' });
    $note->('no-op', $send->({ type => 'http.response.body', body => 'y', more => 1 }));
    $note->('bad no-op', $send->({ type => 'nonsense' }));
}, fast => 1;

subtest 'frames go to the buffer the wire has now' => sub {
    plan skip_all => 'no XS body path' unless $XS;
    run_scope(1, sub {
        my ($send, $s, $note, $wire) = @_;
        $start->($send);
        my $other = '';
        $wire->{out} = \$other;    # as Wire::_flush does after a partial write
        ok $send->({ type => 'http.response.body', body => 'x', more => 1 })->is_done, 'sent';
        my @f = PAGI::Gateway::Worker::Codec::decode_frames(\$other);
        is_deeply [ map { [ @$_{qw(type scope body more)} ] } @f ], [ [ 'httpResponseBody', 9, 'x', 1 ] ], 'into the new buffer';
    });
};

subtest 'http_body declines what it cannot take, changing nothing' => sub {
    plan skip_all => 'no XS body path' unless $XS;
    my $x = \&PAGI::Gateway::Worker::XS::http_body;
    ok !$x->(undef, { type => 'http.response.body' }), 'no scope';
    ok !$x->({}, { type => 'http.response.body' }), 'not a scope';
    ok !$x->({ conn => {} }, 'x'), 'not an event';
    ok $x->({ conn => { finished => 1 } }, 'x'), 'after the end: taken as the no-op';
};

done_testing;
