package PAGI::Gateway::Worker::Lifespan;
# The lifespan scope (docs/protocol.md section 2, PAGI::Spec::Lifespan): calls
# the app once with a lifespan scope and a shared `state` hashref, turns
# lifespanStartup/lifespanShutdown into receive events, and answers the
# gateway with what the app sends -- or, when the app raises or returns
# without answering, with lifespanUnsupported (auto mode) /
# lifespanStartupFailed (on mode).
use strict;
use warnings;
use Future;
use Scalar::Util qw(blessed);

my %ANSWER = (
    'lifespan.startup.complete'  => [ startup  => 'lifespanStartupComplete' ],
    'lifespan.startup.failed'    => [ startup  => 'lifespanStartupFailed' ],
    'lifespan.shutdown.complete' => [ shutdown => 'lifespanShutdownComplete' ],
    'lifespan.shutdown.failed'   => [ shutdown => 'lifespanShutdownFailed' ],
);

# ctx: send => sub ($msg), log => sub ($text); id; mode (auto|on);
# state (hashref shared with the worker); worker_num.
sub new {
    my ($class, %args) = @_;
    return bless {
        %args,
        rq      => [],
        waiters => [],
        answered => {},              # startup/shutdown => 1 once answered
        requested => {},             # startup/shutdown => 1 once the gateway asked
        deferred => [],              # answers held until the gateway asked
        shutdown_done => Future->new,
    }, $class;
}

sub state { $_[0]{state} }

# Resolves when lifespan shutdown was answered (or never will be needed).
sub shutdown_done { $_[0]{shutdown_done} }

sub start {
    my ($self, $app) = @_;
    my $scope = {
        type  => 'lifespan',
        pagi  => { version => '0.3', spec_version => '0.3', is_worker => 1, worker_num => $self->{worker_num} },
        state => $self->{state},
    };
    my $weak = $self;
    Scalar::Util::weaken($weak);
    my $receive = sub { $weak ? $weak->_receive : Future->new };
    my $send = sub { $weak ? $weak->_send($_[0]) : Future->done };
    my $f = eval { $app->($scope, $receive, $send) };
    if (!defined $f && $@) { $f = Future->fail($@) }
    elsif (!(blessed $f && $f->isa('Future'))) { $f = Future->done }
    $self->{app_future} = $f;
    $f->on_ready(sub { $weak->_app_finished($_[0]) if $weak });
    return;
}

sub on_message {
    my ($self, $m) = @_;
    if ($m->{type} eq 'lifespanStartup') {
        $self->{requested}{startup} = 1;
        $self->_deliver({ type => 'lifespan.startup' });
    }
    elsif ($m->{type} eq 'lifespanShutdown') {
        $self->request_shutdown;
    }
    $self->_flush_deferred;
}

# Asks the app to shut down (the gateway's lifespanShutdown, or our own
# shutdown when the gateway skipped it).
sub request_shutdown {
    my ($self) = @_;
    return if $self->{requested}{shutdown}++;
    if ($self->{unsupported} || $self->{app_future}->is_ready) {
        # Nobody is listening: shutdown is trivially complete.
        $self->_answer(shutdown => { type => 'lifespanShutdownComplete' });
        return;
    }
    $self->_deliver({ type => 'lifespan.shutdown' });
}

sub _deliver {
    my ($self, $ev) = @_;
    if (my $f = shift @{ $self->{waiters} }) { $f->done($ev) }
    else { push @{ $self->{rq} }, $ev }
}

sub _receive {
    my ($self) = @_;
    return Future->done(shift @{ $self->{rq} }) if @{ $self->{rq} };
    my $f = Future->new;
    push @{ $self->{waiters} }, $f;
    return $f;
}

sub _send {
    my ($self, $ev) = @_;
    my $type = ref $ev eq 'HASH' ? $ev->{type} // '' : '';
    my $a = $ANSWER{$type}
        or return Future->fail("pagi-worker-perl: unsupported event type '$type' for a lifespan scope\n");
    my ($phase, $wire_type) = @$a;
    return Future->fail("pagi-worker-perl: $type sent twice\n") if $self->{answered}{$phase};
    return Future->fail("pagi-worker-perl: $type before lifespan.startup was answered\n")
        if $phase eq 'shutdown' && !$self->{answered}{startup};
    my %wire = (type => $wire_type);
    if ($wire_type =~ /Failed\z/) {
        my $msg = $ev->{message} // '';
        return Future->fail("pagi-worker-perl: $type message must be a string\n") if ref $msg;
        $wire{text} = $msg;
    }
    $self->_answer($phase => \%wire);
    return Future->done;
}

sub _answer {
    my ($self, $phase, $wire) = @_;
    $self->{answered}{$phase} = 1;
    $wire->{scope} = $self->{id};
    # The gateway expects an answer only after it asked.
    push @{ $self->{deferred} }, [ $phase, $wire ];
    $self->_flush_deferred;
}

sub _flush_deferred {
    my ($self) = @_;
    my $d = $self->{deferred};
    while (@$d && $self->{requested}{ $d->[0][0] }) {
        my (undef, $wire) = @{ shift @$d };
        $self->{ctx}{send}->($wire);
        $self->{shutdown_done}->done if $wire->{type} =~ /^lifespanShutdown/ && !$self->{shutdown_done}->is_ready;
    }
}

sub _app_finished {
    my ($self, $f) = @_;
    my $error = $f->is_failed ? ($f->failure)[0] : undef;
    if (!$self->{answered}{startup}) {
        if (defined $error && $self->{mode} eq 'on') {
            $self->{ctx}{log}->("lifespan startup failed: $error");
            $self->_answer(startup => { type => 'lifespanStartupFailed', text => "$error" });
        }
        else {
            my $why = defined $error ? "$error" : 'the app returned without answering lifespan.startup';
            $self->{unsupported} = 1;
            $self->_answer(startup => { type => 'lifespanUnsupported', text => $why });
        }
        if ($self->{requested}{shutdown}) {
            $self->_answer(shutdown => { type => 'lifespanShutdownComplete' });
        }
        return;
    }
    if ($self->{requested}{shutdown} && !$self->{answered}{shutdown}) {
        $self->_answer(shutdown => defined $error
            ? { type => 'lifespanShutdownFailed', text => "$error" }
            : { type => 'lifespanShutdownComplete' });
        return;
    }
    $self->{ctx}{log}->("lifespan app died after startup: $error") if defined $error;
}

1;
