package PAGI::Gateway::Worker;
# The pagi-gateway worker runtime for Perl PAGI apps: connects to the gateway,
# says hello, runs lifespan, then runs the app once per scope, concurrently,
# on an IO::Async loop (Future::IO uses the same loop, so apps can
# `await Future::IO->sleep(...)`). docs/protocol.md is the conversation.
use strict;
use warnings;
use IO::Async::Loop;
use IO::Handle;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Future::IO;
use Future::IO::Impl::IOAsync;
use PAGI::Gateway::Worker::Codec;
use PAGI::Gateway::Worker::Layout;
use PAGI::Gateway::Worker::Wire;
use PAGI::Gateway::Worker::ScopeBuilder;
use PAGI::Gateway::Worker::HttpScope;
use PAGI::Gateway::Worker::StreamScope;
use PAGI::Gateway::Worker::Lifespan;

our $VERSION = '0.01';
our $SDK_NAME = 'pagi-worker-perl';

my %C = %PAGI::Gateway::Worker::Layout::CONST;

# new(app => CODE, app_name => STR, fd => N | connect => PATH, pool => NAME,
#     concurrency => N, loop => IO::Async::Loop)
sub new {
    my ($class, %args) = @_;
    die "$SDK_NAME: app must be a code reference\n" unless ref $args{app} eq 'CODE';
    die "$SDK_NAME: give either fd or connect\n" unless defined($args{fd}) xor defined($args{connect});
    return bless {
        concurrency => 100,
        app_name    => '',
        pool        => '',
        %args,
        scopes   => {},
        state    => {},
        exit_code => undef,
    }, $class;
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

# Runs until shutdown or EOF; returns the process exit code.
sub run {
    my ($self) = @_;
    my $loop = $self->{loop} //= IO::Async::Loop->new;
    Future::IO::Impl::IOAsync->can('set_loop') and Future::IO::Impl::IOAsync->set_loop($loop);
    my $fh = $self->_open_socket;
    $self->{wire} = PAGI::Gateway::Worker::Wire->new(
        loop       => $loop,
        fh         => $fh,
        on_message => sub { $self->_on_message($_[0]) },
        on_eof     => sub { $self->_stop(0) },
        on_error   => sub { $self->_log($_[0]); $self->_stop(1) },
    );
    my $send = $self->{send} = sub { $self->{wire}->send($_[0]) };
    $self->{ctx} = {
        send     => $send,
        log      => sub { $self->_log($_[0]) },
        finished => sub { delete $self->{scopes}{ $_[0] } },
        settings => {},
    };
    $send->({
        scope => 0, type => 'hello',
        protocolVersion => $C{protocolVersion}, pid => $$, concurrency => $self->{concurrency},
        scopeTypes => $C{scopeBitHttp} | $C{scopeBitWebsocket} | $C{scopeBitSse},
        sdkName => $SDK_NAME, sdkVersion => $VERSION, pool => $self->{pool}, app => $self->{app_name},
    });
    $loop->run unless defined $self->{exit_code};
    return $self->{exit_code} // 0;
}

sub _stop {
    my ($self, $code) = @_;
    return if defined $self->{exit_code};
    $self->{exit_code} = $code;
    $self->{wire}->close if $self->{wire};
    $self->{loop}->stop;
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
    drain     => sub { $_[0]{draining} = 1 },
    shutdown  => \&_on_shutdown,
);

sub _on_message {
    my ($self, $m) = @_;
    if (my $s = $self->{scopes}{ $m->{scope} }) {
        return $s->on_message($m) unless $m->{type} eq 'open';
    }
    if (my $h = $CONTROL{ $m->{type} }) { return $h->($self, $m) }
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
}

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
        my $l = $self->{lifespan} = $self->{scopes}{$id} = PAGI::Gateway::Worker::Lifespan->new(
            id => $id, ctx => $self->{ctx}, mode => $mode, state => $self->{state},
            worker_num => $self->{welcome}{workerId});
        $l->start($self->{app});
        return;
    }
    my $scope = PAGI::Gateway::Worker::ScopeBuilder::build($m, $self->{state});
    my $class = $type eq 'http' ? 'PAGI::Gateway::Worker::HttpScope' : 'PAGI::Gateway::Worker::StreamScope';
    my $s = $self->{scopes}{$id} = $class->new(open => $m, ctx => $self->{ctx}, scope => $scope);
    $s->run($self->{app});
}

sub _on_shutdown {
    my ($self) = @_;
    my $l = $self->{lifespan};
    return $self->_exit_after_flush(0) unless $l;
    $l->request_shutdown;
    $l->shutdown_done->on_ready(sub { $self->_exit_after_flush(0) });
}

1;
