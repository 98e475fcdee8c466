package PAGI::Gateway::Worker;
# The pagi-gateway worker runtime for Perl PAGI apps: connects to the gateway,
# says hello, runs lifespan, then runs the app once per scope, concurrently,
# on an IO::Async loop (Future::IO uses the same loop, so apps can
# `await Future::IO->sleep(...)`). docs/protocol.md is the conversation.
#
# The worker is an IO::Async::Notifier: `run` makes its own loop (the
# standalone pagi-worker-perl, with SIGTERM/SIGINT handled), or a program
# adds it to a loop it owns and keeps its own notifiers there:
#
#   $loop->add($worker); $worker->start->get; $loop->run;
#
# start's future is done once the gateway's welcome arrived; `finished`
# resolves with the exit code when the gateway shuts the worker down (or
# the socket closes). Signals are left alone unless `signals => 1`.
use strict;
use warnings;
use POSIX ();
use parent 'IO::Async::Notifier';
use IO::Async::Loop;
use IO::Async::Signal;
use Scalar::Util ();
use IO::Handle;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Future;
use Future::IO;
use Future::IO::Impl::IOAsync;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::Layout;
use PAGI::Gateway::Worker::Wire;
use PAGI::Gateway::Worker::ScopeBuilder;
use PAGI::Gateway::Worker::HttpScope;
use PAGI::Gateway::Worker::StreamScope;
use PAGI::Gateway::Worker::WebSocketScope;
use PAGI::Gateway::Worker::SseScope;
use PAGI::Gateway::Worker::Lifespan;

our $VERSION = '0.01';
our $SDK_NAME = 'pagi-worker-perl';

my %C = %PAGI::Gateway::Worker::Layout::CONST;

# new(app => CODE | adapter object (->attach($worker), ->pagi_app),
#     app_name => STR, fd => N | connect => PATH, pool => NAME,
#     concurrency => N, loop => IO::Async::Loop (for run), signals => BOOL)
sub new {
    my ($class, %args) = @_;
    my $app = $args{app};
    my $adapter = Scalar::Util::blessed($app) && $app->can('pagi_app') ? $app : undef;
    die "$SDK_NAME: app must be a code reference\n" unless $adapter || ref $app eq 'CODE';
    die "$SDK_NAME: give either fd or connect\n" unless defined($args{fd}) xor defined($args{connect});
    my $self = $class->SUPER::new;
    %$self = (
        %$self,
        concurrency => 100,
        app_name    => '',
        pool        => '',
        %args,
        scopes   => {},
        state    => {},
        exit_code => undef,
    );
    if ($adapter) {
        # PSGI/CGI adapters reach back for the loop and synchronous waits.
        $adapter->attach($self);
        $self->{adapter} = $adapter;
        $self->{app} = $adapter->pagi_app;
    }
    return $self;
}

sub _log {
    my ($self, $text) = @_;
    chomp $text;
    print STDERR "$SDK_NAME\[$$]: $text\n";
}

sub _open_socket {
    my ($self) = @_;
    if (defined $self->{connect}) {
        return IO::Socket::UNIX->new(Peer => $self->{connect}, Type => SOCK_STREAM)
            || die "$SDK_NAME: cannot connect to '$self->{connect}': $!\n";
    }
    my $fd = $self->{fd};
    die "$SDK_NAME: bad file descriptor number '$fd'\n" unless $fd =~ /\A\d+\z/;
    my $fh = IO::Handle->new_from_fd($fd, 'r+')
        or die "$SDK_NAME: file descriptor $fd is not open: $!\n";
    return $fh;
}

# Standalone: runs on its own (or the given) loop until shutdown or EOF,
# with signal handling on; returns the process exit code.
sub run {
    my ($self) = @_;
    my $loop = delete $self->{loop} // IO::Async::Loop->new;
    $self->{signals} //= 1;
    $loop->add($self);
    $self->start;
    my $finished = $self->{finished};
    $finished->on_ready(sub { $loop->stop });
    $loop->run unless $finished->is_ready;
    $loop->remove($self) if $self->loop;
    return $self->{exit_code} // 0;
}

# Connects, says hello; the future is done when the gateway's welcome came
# (failed if the worker stopped first). The worker must be in a loop.
sub start {
    my ($self) = @_;
    my $loop = $self->loop or die "$SDK_NAME: add the worker to an IO::Async::Loop before start\n";
    return $self->{started} if $self->{started};
    Future::IO::Impl::IOAsync->can('set_loop') and Future::IO::Impl::IOAsync->set_loop($loop);
    $self->{started}  = $loop->new_future;
    $self->{finished} = $loop->new_future;
    my $fh = eval { $self->_open_socket };
    unless ($fh) {
        my $err = $@;
        print STDERR $err;
        $self->_stop(1);
        return $self->{started};
    }
    my $weak = $self;
    Scalar::Util::weaken($weak);
    $self->{wire} = PAGI::Gateway::Worker::Wire->new(
        loop       => $loop,
        fh         => $fh,
        on_message => sub { _on_message($weak, $_[0]) if $weak },    # a plain call per message
        on_eof     => sub { $weak->_stop(0) if $weak },
        on_error   => sub { return unless $weak; $weak->_log($_[0]); $weak->_stop(1) },
        send_buffer => $ENV{PAGI_WORKER_SEND_BUFFER},
    );
    # Frames go straight into the wire's output buffer (one copy of a body).
    my $send = $self->{send} = $self->{wire}->sender;
    $self->{ctx} = {
        send     => $send,
        send_body => $self->{wire}->body_sender,
        send_raw => $self->{wire}->raw_sender,
        wire     => $self->{wire},    # for the XS body path (HttpScope)
        log      => sub { $weak->_log($_[0]) if $weak },
        finished => sub {
            return unless $weak;
            return $weak->_scope_finished($_[0]) if $weak->{retiring};
            delete $weak->{scopes}{ $_[0] };    # _scope_finished when not retiring
        },
        settings => {},
    };
    $self->_watch_signals if $self->{signals};
    $send->({
        scope => 0, type => 'hello',
        protocolVersion => $C{protocolVersion}, pid => $$, concurrency => $self->{concurrency},
        scopeTypes => $C{scopeBitHttp} | $C{scopeBitWebsocket} | $C{scopeBitSse},
        sdkName => $SDK_NAME, sdkVersion => $VERSION, pool => $self->{pool}, app => $self->{app_name},
    });
    return $self->{started};
}

# Resolves with the exit code once the worker stopped.
sub finished { $_[0]{finished} }

# SIGTERM/SIGINT: the same graceful path as the gateway's shutdown message;
# a second signal stops at once.
sub _watch_signals {
    my ($self) = @_;
    my $weak = $self;
    Scalar::Util::weaken($weak);
    for my $name (qw(TERM INT)) {
        my $sig = IO::Async::Signal->new(name => $name, on_receipt => sub {
            return unless $weak;
            return $weak->_stop(0) if $weak->{shutting_down};
            $weak->_on_shutdown;
        });
        $self->add_child($sig);
        push @{ $self->{signal_notifiers} }, $sig;
    }
}

sub _scope_finished {
    my ($self, $id) = @_;
    delete $self->{scopes}{$id};
    $self->_exit_after_flush(0) if $self->{retiring} && !grep { $_ != ($self->{lifespan_id} // -1) } keys %{ $self->{scopes} };
}

# psgix.harakiri: exit cleanly once the scopes in hand are done; the gateway
# starts a replacement.
sub retire {
    my ($self) = @_;
    $self->{retiring} = 1;
    $self->_scope_finished(-1);
}

# Runs the loop until $f is ready: how a blocking PSGI app waits for request
# body frames or send credit from inside its call (docs/perl.md). Returns
# false if the worker stopped first.
sub wait_for {
    my ($self, $f) = @_;
    my $loop = $self->loop or return 0;
    until ($f->is_ready || $self->{finished}->is_ready) {
        $self->{wire}->deliver_queued if $self->{wire};
        last if $f->is_ready || $self->{finished}->is_ready;
        $loop->loop_once;
    }
    return $f->is_ready;
}

# Writes what is queued for the gateway now, without waiting for the next
# loop turn (a streaming PSGI writer inside a blocking app).
sub flush { $_[0]{wire}->flush_now if $_[0]{wire} }

sub loop_or_die { $_[0]->loop or die "$SDK_NAME: worker is not in a loop\n" }

sub _remove_from_loop {
    my ($self, $loop) = @_;
    $self->_stop($self->{exit_code} // 0) if $self->{finished} && !$self->{finished}->is_ready;
    $self->SUPER::_remove_from_loop($loop);
}

sub _stop {
    my ($self, $code) = @_;
    return if defined $self->{exit_code};
    $self->{exit_code} = $code;
    $self->{wire}->close if $self->{wire};
    for my $sig (@{ delete $self->{signal_notifiers} || [] }) { $self->remove_child($sig) }
    if (my $id = delete $self->{ring_trim}) { $self->loop->unwatch_time($id) if $self->loop }
    $self->{started}->fail("$SDK_NAME: stopped before the gateway's welcome\n")
        if $self->{started} && !$self->{started}->is_ready;
    $self->{finished}->done($code) if $self->{finished} && !$self->{finished}->is_ready;
}

# Flushes what is queued, then stops.
sub _exit_after_flush {
    my ($self, $code) = @_;
    $self->{wire}->when_flushed(sub { $self->_stop($code) });
}

my %CONTROL = (
    welcome   => \&_on_welcome,
    open      => \&_on_open,
    heartbeat => sub { $_[0]{send}->({ scope => 0, type => 'heartbeat', seq => $_[1]{seq} }) },
    drain     => \&_on_drain,
    shutdown  => \&_on_shutdown,
    bodyRingRelease => \&_on_ring_release,
);

sub _on_message {
    my ($self, $m) = @_;
    my $t = $m->{type};
    if (my $s = $self->{scopes}{ $m->{scope} }) {
        return $s->on_message($m) unless $t eq 'open';
    }
    # The usual open (http, after the welcome, a new id): what _on_open does
    # for it, without its checks for the other cases.
    elsif ($t eq 'open' && $m->{scopeType} eq 'http' && $self->{welcome}) { return _open_http($self, $m) }
    if (my $h = $CONTROL{$t}) { return $h->($self, $m) }
    # Events for a scope that already ended cross in flight: ignore them.
    return if $m->{scope};
    $self->_log("ignoring unexpected '$m->{type}' message");
}

sub _on_welcome {
    my ($self, $m) = @_;
    if ($m->{protocolVersion} != $C{protocolVersion}) {
        $self->_log("gateway speaks protocol $m->{protocolVersion}, this worker $C{protocolVersion}");
        return $self->_stop(1);
    }
    $self->{welcome} = $m;
    %{ $self->{ctx}{settings} } = %$m;
    $self->_take_body_ring($m->{bodyRingBytes});
    $self->{started}->done($self) unless $self->{started}->is_ready;
}

# The shared body ring (docs/protocol.md 3c): response bodies from 4 KiB on
# the XS paths are copied into it and sent as spans instead of through the
# socket. Only with the XS accelerator (the mapping is C's); the pure path
# sends every body inline. A ring that does not check out is logged and not
# used: the bodies go inline, which the gateway always takes.
sub _take_body_ring {
    my ($self, $size) = @_;
    my $fd = delete $ENV{PAGI_BODY_RING_FD};    # the app's child processes get no ring
    return unless defined $fd && $self->{wire} && !$self->{wire}{ring};
    my $ring;
    if ($size && PAGI::Gateway::Worker::Codec::implementation() eq 'xs'
        && defined &PAGI::Gateway::Worker::XS::ring_map) {
        $ring = $fd =~ /\A\d+\z/ ? eval { PAGI::Gateway::Worker::XS::ring_map($fd, $size) } : undef;
        $self->_log('body ring not used: ' . ($@ || "bad PAGI_BODY_RING_FD '$fd'")) unless $ring;
    }
    if ($ring) {
        $self->{wire}{ring} = $ring;
        return;
    }
    # Unused, the descriptor (the gateway's, as it announced a ring) is only
    # something for the app's child processes to inherit.
    POSIX::close($fd) if $size && $fd =~ /\A\d+\z/ && $fd > 2;
}

# A release that emptied the ring (XS Ring->release says so when the ring
# holds memory past its first MiB) arms a timer: the memory goes back
# (Ring->trim) only once no span was written for RING_TRIM_DELAY seconds.
# Giving it back at every emptying made a busy ring fault the same pages in
# again and again (docs/benchmarks.md, "Lazy ring trim").
use constant RING_TRIM_DELAY => 1;

sub _on_ring_release {
    my ($self, $m) = @_;
    # Without a ring (or after the wire closed) there is nothing to release.
    my $ring = $self->{wire} && $self->{wire}{ring} or return;
    _arm_ring_trim($self, $ring) if $ring->release($m->{through}) && !$self->{ring_trim};
}

sub _arm_ring_trim {
    my ($self, $ring) = @_;
    my $loop = $self->loop or return;
    my $w = $ring->write_pos;
    Scalar::Util::weaken(my $weak = $self);
    $self->{ring_trim} = $loop->watch_time(after => RING_TRIM_DELAY, code => sub {
        my $self = $weak or return;
        delete $self->{ring_trim};
        my $ring = $self->{wire} && $self->{wire}{ring} or return;
        # Holding spans again: the release that empties it re-arms.
        return if $ring->release_pos != $ring->write_pos;
        # Used and emptied again within the delay: wait for a quiet one.
        return _arm_ring_trim($self, $ring) if $ring->write_pos != $w;
        $ring->trim;
    });
}

my %SCOPE_CLASS = (
    http      => 'PAGI::Gateway::Worker::HttpScope',
    websocket => 'PAGI::Gateway::Worker::WebSocketScope',
    sse       => 'PAGI::Gateway::Worker::SseScope',
);

sub _on_open {
    my ($self, $m) = @_;
    my $id = $m->{scope};
    unless ($self->{welcome}) {
        $self->_log('open before welcome');
        return $self->_stop(1);
    }
    if ($self->{scopes}{$id}) {
        $self->_log("scope $id opened twice");
        return $self->_stop(1);
    }
    my $type = $m->{scopeType};
    if ($type eq 'lifespan') {
        my $mode = $self->{welcome}{lifespan};
        $self->{lifespan_id} = $id;
        my $l = $self->{lifespan} = $self->{scopes}{$id} = PAGI::Gateway::Worker::Lifespan->new(
            id => $id, ctx => $self->{ctx}, mode => $mode, state => $self->{state},
            worker_num => $self->{welcome}{workerId});
        $l->start($self->{app});
        return;
    }
    return _open_http($self, $m) if $type eq 'http';
    my $scope = PAGI::Gateway::Worker::ScopeBuilder::build($m, $self->{state});
    $scope->{'pagi.gateway'}{drain} = $self->{drain_future} //= Future->new;    # see _open_http
    my $class = $SCOPE_CLASS{$type} // 'PAGI::Gateway::Worker::StreamScope';
    my $s = $self->{scopes}{$id} = $class->new(open => $m, ctx => $self->{ctx}, scope => $scope);
    $s->run($self->{app});
}

# An http scope (plain calls: no argument hash, no method lookup).
sub _open_http {
    my ($self, $m) = @_;
    my $scope = PAGI::Gateway::Worker::ScopeBuilder::build($m, $self->{state});
    # The gateway drains this worker (reload, recycle): a Future done with
    # the seconds left before it closes what is still open (server_shutdown).
    # Long-lived streams can await it to wind down on their own.
    $scope->{'pagi.gateway'}{drain} = $self->{drain_future} //= Future->new;
    PAGI::Gateway::Worker::HttpScope::run(
        $self->{scopes}{ $m->{scope} } = PAGI::Gateway::Worker::HttpScope::_open($m, $self->{ctx}, $scope),
        $self->{app});
}

sub _drain_future {
    my ($self) = @_;
    return $self->{drain_future} //= Future->new;
}

sub _on_drain {
    my ($self, $m) = @_;
    $self->{draining} = 1;
    my $f = $self->_drain_future;
    $f->done(($m->{timeoutMs} // 0) / 1000) unless $f->is_ready;
}

sub _on_shutdown {
    my ($self) = @_;
    return if $self->{shutting_down}++;
    my $l = $self->{lifespan};
    return $self->_exit_after_flush(0) unless $l;
    $l->request_shutdown;
    $l->shutdown_done->on_ready(sub { $self->_exit_after_flush(0) });
}

1;
