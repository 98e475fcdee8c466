# The end-to-end test app: one plain PAGI application whose first path
# segment picks a behaviour. Out-of-band reports go to the file named by
# $ENV{E2E_EVENTS} (one line per event); gates are files the test creates
# under $ENV{E2E_DIR}.
use strict;
use warnings;
use Future;
use Future::AsyncAwait;
use Future::IO;
use JSON::PP ();
use POSIX ();

my $JSON   = JSON::PP->new->canonical->ascii->allow_nonref;
my $EVENTS = $ENV{E2E_EVENTS};
my $DIR    = $ENV{E2E_DIR};
my $GATE_LIMIT = 60;    # seconds a gate may stay shut before the app gives up

sub note_event {
    my ($line) = @_;
    return unless defined $EVENTS;
    open my $fh, '>>', $EVENTS or die "open $EVENTS: $!";
    syswrite $fh, "$line\n";    # one write per line: lines never interleave
    close $fh;
}

sub query {
    my ($scope) = @_;
    my %q;
    for my $pair (split /&/, $scope->{query_string} // '') {
        my ($k, $v) = split /=/, $pair, 2;
        $v //= '';
        $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        $q{$k} = $v;
    }
    return \%q;
}

async sub read_body {
    my ($receive) = @_;
    my $body = '';
    while (1) {
        my $event = await $receive->();
        return $body unless $event->{type} eq 'http.request';
        $body .= $event->{body} // '';
        return $body unless $event->{more};
    }
}

async sub respond {
    my ($send, $status, $body, $type, @extra) = @_;
    await $send->({
        type    => 'http.response.start',
        status  => $status,
        headers => [
            [ 'content-type',   $type // 'text/plain' ],
            [ 'content-length', length $body ],
            @extra,
        ],
    });
    await $send->({ type => 'http.response.body', body => $body });
}

async sub gate {    # waits until the test creates $DIR/$name
    my ($name) = @_;
    my $path     = "$DIR/$name";
    my $deadline = time + $GATE_LIMIT;
    while (!-e $path) {
        die "gate $name never opened\n" if time > $deadline;
        await Future::IO->sleep(0.01);
    }
}

my %route;

# The scope as JSON (ascii-escaped, so code points survive exactly).
$route{scope} = async sub {
    my ($scope, $receive, $send) = @_;
    my $body = await read_body($receive);
    my %out  = map { exists $scope->{$_} ? ($_ => $scope->{$_}) : () }
        qw(type method path raw_path query_string root_path headers client
        server scheme http_version state pagi);
    $out{path_codes}     = [ map { ord } split //, $scope->{path} ];
    $out{extensions}     = { map { $_ => 1 } keys %{ $scope->{extensions} || {} } };
    $out{has_connection} = ref $scope->{'pagi.connection'} ? 1 : 0;
    $out{has_transport}  = ref $scope->{'pagi.transport'} ? 1 : 0;
    $out{body}           = $body;
    await respond($send, 200, $JSON->encode(\%out), 'application/json');
};

$route{hello} = async sub {
    my ($scope, $receive, $send) = @_;
    await respond($send, 200, "Hello, world!\n");
};

$route{date} = async sub {
    my ($scope, $receive, $send) = @_;
    await respond($send, 200, "dated\n", undef, [ 'date', 'Sun, 06 Nov 1994 08:49:37 GMT' ]);
};

$route{pid} = async sub {
    my ($scope, $receive, $send) = @_;
    await respond($send, 200, "$$");
};

$route{echo} = async sub {
    my ($scope, $receive, $send) = @_;
    my $body = await read_body($receive);
    await respond($send, 200, $body, 'application/octet-stream');
};

# Counts body bytes without keeping them.
$route{count} = async sub {
    my ($scope, $receive, $send) = @_;
    my ($bytes, $events) = (0, 0);
    while (1) {
        my $event = await $receive->();
        last unless $event->{type} eq 'http.request';
        $bytes += length($event->{body} // '');
        $events++;
        last unless $event->{more};
    }
    await respond($send, 200, "$bytes");
};

# Reads the body only once the test opens the gate "continue".
$route{continue} = async sub {
    my ($scope, $receive, $send) = @_;
    note_event('continue waiting');
    await gate('continue');
    my $body = await read_body($receive);
    await respond($send, 200, "got:$body");
};

# ?chunks=N&size=B[&trailers=1][&flush=1]: chunk i is B copies of letter i%26.
$route{stream} = async sub {
    my ($scope, $receive, $send) = @_;
    my $q        = query($scope);
    my $chunks   = $q->{chunks} // 3;
    my $size     = $q->{size} // 10;
    my $trailers = $q->{trailers} ? 1 : 0;
    my $transport = $scope->{'pagi.transport'};
    my ($high_water, $drains, $max_buffered) = (0, 0, 0);
    if ($transport) {
        $transport->on_high_water(sub { $high_water++; note_event('high_water reached') });
        $transport->on_drain(sub { $drains++ });
    }
    await $send->({
        type     => 'http.response.start',
        status   => 200,
        headers  => [ [ 'content-type', 'text/plain' ] ],
        trailers => $trailers,
    });
    for my $i (0 .. $chunks - 1) {
        await $send->({
            type => 'http.response.body',
            body => chr(ord('a') + $i % 26) x $size,
            more => 1,
        });
        if ($transport) {
            my $b = $transport->buffered_amount;
            $max_buffered = $b if $b > $max_buffered;
        }
        if ($q->{flush} && $i == 0 && $scope->{extensions}{fullflush}) {
            await $send->({ type => 'http.fullflush' });
        }
    }
    await $send->({ type => 'http.response.body', body => '', more => 0 });
    if ($trailers) {
        await $send->({
            type    => 'http.response.trailers',
            headers => [ [ 'x-total-bytes', $chunks * $size ], [ 'x-trailer-two', 'yes' ] ],
        });
    }
    note_event("stream done transport=" . ($transport ? 1 : 0)
        . " high_water=$high_water drains=$drains max_buffered=$max_buffered");
};

# Streams (?size=B&pause=S) until the client goes away, then reports what
# the app saw.
$route{disconnect} = async sub {
    my ($scope, $receive, $send) = @_;
    my $conn = $scope->{'pagi.connection'};
    $conn->on_disconnect(sub { note_event("on_disconnect $_[0]") });
    $conn->on_complete(sub { note_event('on_complete') }) if $conn->can('on_complete');
    my $first = await $receive->();
    await $send->({ type => 'http.response.start', status => 200,
        headers => [ [ 'content-type', 'text/plain' ] ] });
    note_event("disconnect streaming $$");
    my $q     = query($scope);
    my $chunk = 'x' x ($q->{size} // 1024);
    my $pause = $q->{pause} // 0.005;
    for my $i (1 .. 4000) {
        last unless $conn->is_connected;
        await $send->({ type => 'http.response.body', body => $chunk, more => 1 });
        await Future::IO->sleep($pause) if $pause > 0;
    }
    my $event = await $receive->();
    note_event("receive $event->{type}");
    note_event('reason ' . ($conn->disconnect_reason // 'undef'));
    note_event('disconnect done');
};

# ?name=X: holds the request until the test opens gate "release-X".
# "answering" is noted before the first send, so it precedes anything the
# gateway does because of the response; "answered" after the last send
# returned (when that is relative to the frames leaving the worker is the
# SDK's business).
$route{hold} = async sub {
    my ($scope, $receive, $send) = @_;
    my $name = query($scope)->{name} // 'x';
    note_event("hold $name started $$");
    await gate("release-$name");
    note_event("hold $name answering");
    await respond($send, 200, "held $name $$");
    note_event("hold $name answered");
};

# ?name=X: answers at once, then keeps working (as a background task does)
# until the test opens gate "finish-X".
$route{after} = async sub {
    my ($scope, $receive, $send) = @_;
    my $name = query($scope)->{name} // 'x';
    await respond($send, 200, "answered $name $$");
    note_event("after $name answered $$");
    await gate("finish-$name");
    note_event("after $name finished");
};

$route{die} = async sub {
    die "e2e app failure before start\n";
};

$route{noresponse} = async sub {
    my ($scope, $receive, $send) = @_;
    await read_body($receive);
    return;
};

$route{exit} = async sub {
    note_event("exit $$");
    POSIX::_exit(1);
};

# Never answers; ends when the gateway gives up on the request.
$route{never} = async sub {
    my ($scope, $receive, $send) = @_;
    my $conn = $scope->{'pagi.connection'};
    my $deadline = time + $GATE_LIMIT;
    while ($conn->is_connected && time < $deadline) {
        await Future::IO->sleep(0.02);
    }
    note_event('never ended ' . ($conn->disconnect_reason // 'undef'));
};

# Tries headers with CR/LF and a control character in a name; each send must
# fail. Answers with what the failures said.
$route{crlf} = async sub {
    my ($scope, $receive, $send) = @_;
    my @errors;
    for my $header ([ 'x-bad', "ok\r\nInjected: yes" ], [ "x-bad\x01name", 'v' ],
        [ 'x-nul', "a\0b" ], [ 'x-lf', "a\nInjected: yes" ]) {
        my $ok = eval {
            await $send->({ type => 'http.response.start', status => 200, headers => [$header] });
            1;
        };
        my $error = $@ // '';
        $error =~ s/[\r\n]+/ /g;
        push @errors, $ok ? 'ACCEPTED' : "rejected: $error";
    }
    await respond($send, 200, join("\n", @errors) . "\n");
};

# ?name=F[&offset=O][&length=L]: serves $DIR/F as a file body.
$route{file} = async sub {
    my ($scope, $receive, $send) = @_;
    my $q = query($scope);
    my %event = (type => 'http.response.body', file => "$DIR/$q->{name}");
    $event{offset} = $q->{offset} if defined $q->{offset};
    $event{length} = $q->{length} if defined $q->{length};
    await $send->({ type => 'http.response.start', status => 200,
        headers => [ [ 'content-type', 'application/octet-stream' ] ] });
    my $ok = eval { await $send->(\%event); 1 };
    if ($ok) {
        note_event("file sent $q->{name}");
        return;
    }
    my $error = $@ // '';
    $error =~ s/[\r\n]+/ /g;
    note_event("file send failed: $error");
    await $send->({ type => 'http.response.body', body => "send failed: $error", more => 0 });
};

my $app = async sub {
    my ($scope, $receive, $send) = @_;
    if ($scope->{type} eq 'lifespan') {
        while (1) {
            my $event = await $receive->();
            if ($event->{type} eq 'lifespan.startup') {
                $scope->{state}{greeting}   = 'hello from lifespan';
                $scope->{state}{worker_pid} = $$;
                note_event("lifespan startup $$");
                await $send->({ type => 'lifespan.startup.complete' });
            }
            elsif ($event->{type} eq 'lifespan.shutdown') {
                note_event("lifespan shutdown $$");
                await $send->({ type => 'lifespan.shutdown.complete' });
                return;
            }
        }
    }
    die "unsupported scope type $scope->{type}\n" unless $scope->{type} eq 'http';
    my ($first) = $scope->{path} =~ m{^/([^/]*)};
    my $handler = $route{ $first // '' } // $route{scope};
    await $handler->($scope, $receive, $send);
};

$app;
