package PAGI::Gateway::Worker::CGI;
# Serves CGI/1.1 scripts (RFC 3875) as a PAGI app: one process per request,
# started with IO::Async::Process on the worker's loop, so a slow or hung
# script never blocks the loop and other requests go on. The request body
# streams to the script's stdin as it arrives; its stdout streams back as it
# is produced (after the header block: Status and Location honoured, NPH not
# supported); its stderr goes to the worker's log.
#
# `timeout` (seconds, default 30) bounds a script's run: on expiry it gets
# SIGTERM, then SIGKILL after `kill_grace` (default 3); the client gets 504
# if no response had started, otherwise the response is cut off. A client
# that leaves also ends its script.
#
# The target is one script (served at the route's root_path, the rest of the
# path is PATH_INFO) or a directory (the first path segment names the script
# in it; dot files and non-executables are never run).
use strict;
use warnings;
use Future;
use Future::AsyncAwait;
use PAGI::Gateway::Worker::NoLifespan;
use IO::Async::Process;
use Config ();
use POSIX ();
use File::Basename qw(dirname);
use PAGI::Gateway::Worker::CGI::ResponseHead;

our $DEFAULT_TIMEOUT    = 30;
our $DEFAULT_KILL_GRACE = 3;
our $DEFAULT_CONCURRENCY = 16;
our $SERVER_SOFTWARE = 'pagi-gateway';

# new(target => absolute path (file or directory), timeout => S, kill_grace => S)
sub new {
    my ($class, %args) = @_;
    return bless {
        target     => $args{target},
        timeout    => 0 + ($args{timeout} // $DEFAULT_TIMEOUT),
        kill_grace => 0 + ($args{kill_grace} // $DEFAULT_KILL_GRACE),
    }, $class;
}

sub attach {
    my ($self, $worker) = @_;
    $self->{worker} = $worker;
    Scalar::Util::weaken($self->{worker});
    # A script that exits without reading its stdin must not kill the worker.
    $SIG{PIPE} = 'IGNORE';
}

sub default_concurrency { $DEFAULT_CONCURRENCY }

sub pagi_app {
    my ($self) = @_;
    return sub { $self->_handle(@_) };
}

sub _handle {
    my ($self, $scope, $receive, $send) = @_;
    return PAGI::Gateway::Worker::NoLifespan::run($receive, $send) if $scope->{type} eq 'lifespan';
    return Future->fail("pagi-worker-perl: CGI serves http only, not $scope->{type}\n") if $scope->{type} ne 'http';
    return $self->_serve($scope, $receive, $send);
}

async sub _plain {
    my ($send, $status, $text) = @_;
    await $send->({ type => 'http.response.start', status => $status,
                    headers => [ [ 'content-type', 'text/plain; charset=utf-8' ], [ 'content-length', length $text ] ] });
    await $send->({ type => 'http.response.body', body => $text, more => 0 });
}

sub _bytes { my ($s) = @_; $s //= ''; utf8::encode($s) if utf8::is_utf8($s); $s }

# (script file, SCRIPT_NAME, PATH_INFO) or () when nothing runnable matches.
sub resolve {
    my ($self, $scope) = @_;
    my $root = _bytes($scope->{root_path});
    $root =~ s{/\z}{};
    my $path = _bytes($scope->{path});
    my $rest = length $root && index($path, $root) == 0 ? substr($path, length $root) : $path;
    my $target = $self->{target};
    return ($target, $root, $rest) unless -d $target;
    my ($name, $info) = $rest =~ m{\A/([^/]+)(.*)\z}s or return;
    return if $name =~ /\A\./;
    my $file = "$target/$name";
    return unless -f $file && -x _;
    return ($file, "$root/$name", $info);
}

sub env {
    my ($self, $scope, $script, $script_name, $path_info) = @_;
    my %env = map { $_ => $ENV{$_} } grep { !/\A(?:HTTP_|PAGI_WORKER_FD\z)/ } keys %ENV;
    my $server = $scope->{server} || [ 'localhost', 0 ];
    my $client = $scope->{client} || [ '', 0 ];
    my $qs = $scope->{query_string} // '';
    my $raw = $scope->{raw_path} // _bytes($scope->{path});
    %env = (%env,
        GATEWAY_INTERFACE => 'CGI/1.1',
        SERVER_SOFTWARE   => $SERVER_SOFTWARE,
        SERVER_NAME       => $server->[0] // 'localhost',
        SERVER_PORT       => $server->[1] // 0,
        SERVER_PROTOCOL   => 'HTTP/' . ($scope->{http_version} // '1.1'),
        REQUEST_METHOD    => $scope->{method},
        SCRIPT_NAME       => $script_name,
        SCRIPT_FILENAME   => $script,
        PATH_INFO         => $path_info,
        QUERY_STRING      => $qs,
        REQUEST_URI       => length $qs ? "$raw?$qs" : $raw,
        REMOTE_ADDR       => $client->[0],
        REMOTE_HOST       => $client->[0],
        REMOTE_PORT       => $client->[1] // 0,
        (($scope->{scheme} // '') eq 'https' ? (HTTPS => 'on') : ()),
    );
    for my $h (@{ $scope->{headers} || [] }) {
        my ($name, $value) = @$h;
        my $key = uc $name;
        $key =~ tr/-/_/;
        if ($key eq 'CONTENT_TYPE' || $key eq 'CONTENT_LENGTH') { $env{$key} = $value; next }
        if ($key eq 'AUTHORIZATION') {
            # RFC 3875 4.1.1: the scheme only; credentials stay with the server.
            ($env{AUTH_TYPE}) = $value =~ /\A(\S+)/;
            next;
        }
        next if $key eq 'PROXY';    # "httpoxy": never let a client set HTTP_PROXY
        $key = "HTTP_$key";
        $env{$key} = exists $env{$key} ? "$env{$key}, $value" : $value;
    }
    return \%env;
}

# Reads the whole body (chunked requests: CGI needs CONTENT_LENGTH up front).
async sub _read_all {
    my ($receive) = @_;
    my $body = '';
    while (1) {
        my $ev = await $receive->();
        return undef unless ($ev->{type} // '') eq 'http.request';
        $body .= $ev->{body} // '';
        return $body unless $ev->{more};
    }
}

async sub _feed_stdin {
    my ($stdin, $receive, $prebuffered) = @_;
    if (defined $prebuffered) {
        await $stdin->write($prebuffered) if length $prebuffered;
    }
    else {
        while (1) {
            my $ev = await $receive->();
            last unless ($ev->{type} // '') eq 'http.request';
            await $stdin->write($ev->{body}) if length($ev->{body} // '');
            last unless $ev->{more};
        }
    }
    $stdin->close_when_empty;
}

async sub _serve {
    my ($self, $scope, $receive, $send) = @_;
    my $loop = $self->{worker} && $self->{worker}->loop
        or die "pagi-worker-perl: CGI adapter used outside a worker\n";
    my ($script, $script_name, $path_info) = $self->resolve($scope);
    return await _plain($send, 404, "Not Found\n") unless defined $script;
    my $env = $self->env($scope, $script, $script_name, $path_info);

    my $prebuffered;
    if (!defined $env->{CONTENT_LENGTH} && grep { $_->[0] eq 'transfer-encoding' } @{ $scope->{headers} }) {
        $prebuffered = await _read_all($receive);
        return unless defined $prebuffered;    # the client left
        $env->{CONTENT_LENGTH} = length $prebuffered;
    }

    my $exited = $loop->new_future;
    my $stdout_eof = $loop->new_future;
    my ($head, $head_error, $started);
    my $sending = Future->done;
    my $label = "CGI $script_name";
    my $proc = IO::Async::Process->new(
        code    => sub { _exec_clean($script) },
        setup   => [ env => $env, chdir => dirname($script) ],
        stdin   => { via => 'pipe_write' },
        stdout  => {
            on_read => sub {
                my ($stream, $buf, $eof) = @_;
                if (!$head && !$head_error) {
                    my $h = PAGI::Gateway::Worker::CGI::ResponseHead::parse($buf);
                    if ($h && $h->{error}) { $head_error = $h->{error} }
                    elsif ($h) {
                        $head = $h;
                        $started = 1;
                        my $start = { type => 'http.response.start', status => $h->{status}, headers => $h->{headers} };
                        $sending = $sending->then(sub { $send->($start) });
                    }
                }
                if ($head && length $$buf) {
                    my $chunk = $$buf;
                    $$buf = '';
                    $sending = $sending->then(sub { $send->({ type => 'http.response.body', body => $chunk, more => 1 }) });
                    unless ($sending->is_ready) {
                        # No credit: stop reading, so the pipe pushes back on the script.
                        $stream->want_readready(0);
                        $sending->on_ready(sub { $stream->want_readready(1) if $stream->read_handle });
                    }
                }
                $$buf = '' if $head_error;
                $stdout_eof->done if $eof && !$stdout_eof->is_ready;
                return 0;
            },
        },
        stderr => {
            on_read => sub {
                my ($stream, $buf, $eof) = @_;
                while ($$buf =~ s/\A([^\n]*)\n//) { print STDERR "$label: $1\n" }
                if ($eof && length $$buf) { print STDERR "$label: $$buf\n"; $$buf = '' }
                return 0;
            },
        },
        on_finish    => sub { $exited->done($_[1]) unless $exited->is_ready },
        on_exception => sub {
            my (undef, $e, $errno, $status) = @_;
            print STDERR "$label: " . ($e // "failed: $errno");
            $exited->done($status // 255 << 8) unless $exited->is_ready;
        },
    );
    $loop->add($proc);
    my $feed = _feed_stdin($proc->stdin, $receive, $prebuffered)->else(sub { Future->done });

    my $finished = Future->needs_all($exited->without_cancel, $stdout_eof->without_cancel)
        ->then(sub { Future->done('finished') });
    my $timeout = $loop->delay_future(after => $self->{timeout})->then(sub { Future->done('timeout') });
    my @watch = ($finished, $timeout);
    if (my $conn = $scope->{'pagi.connection'}) {
        push @watch, $conn->disconnect_future->without_cancel->then(sub { Future->done('client_gone') })
            if $conn->can('disconnect_future');
    }
    my $outcome = await Future->wait_any(@watch);
    $feed->cancel unless $feed->is_ready;

    if ($outcome ne 'finished') {
        await $self->_kill($loop, $proc, $exited);
        if ($outcome eq 'timeout') {
            print STDERR "$label: timed out after $self->{timeout}s; killed\n";
            return await _plain($send, 504, "Gateway Timeout\n") unless $started;
            die "$label: timed out after $self->{timeout}s after its response started\n";
        }
        return;
    }
    await $sending;
    if (!$started) {
        my $why = $head_error // 'the script ended without a response';
        print STDERR "$label: $why (exit status " . ($exited->get >> 8) . ")\n";
        return await _plain($send, 502, "Bad Gateway\n");
    }
    await $send->({ type => 'http.response.body', body => '', more => 0 });
}

# In the forked child: the script starts with the signal state of a fresh
# process. The worker's loop (IO::Async's epoll) blocks the signals it
# watches (TERM, INT, CHLD) and the gateway ignores SIGPIPE; exec keeps both,
# and a script with SIGTERM blocked never sees the timeout's TERM.
sub _exec_clean {
    my ($script) = @_;
    for my $name (split ' ', $Config::Config{sig_name}) {
        next if $name =~ /^(?:ZERO|KILL|STOP|NUM\d+|RTMIN|RTMAX)$/;
        $SIG{$name} = 'DEFAULT';
    }
    POSIX::sigprocmask(POSIX::SIG_SETMASK(), POSIX::SigSet->new);
    exec { $script } $script;
    die "cannot run $script: $!\n";
}

# TERM, then KILL after kill_grace; resolves once the process is gone.
async sub _kill {
    my ($self, $loop, $proc, $exited) = @_;
    return if $exited->is_ready;
    $proc->kill('TERM') if $proc->is_running;
    my $grace = $loop->delay_future(after => $self->{kill_grace});
    await Future->wait_any($exited->without_cancel, $grace);
    return if $exited->is_ready;
    $proc->kill('KILL') if $proc->is_running;
    await $exited;
}

1;
