package PAGI::Gateway::Cookies;
# Cookies for PAGI apps, with signed values.
#
#   use PAGI::Gateway::Cookies;
#   my $cookies = PAGI::Gateway::Cookies->new(secrets => [$new_secret, $old_secret]);
#
#   my $user = $cookies->get_signed($scope, 'user');        # undef if absent,
#                                                            # unsigned or tampered
#   my $header = $cookies->set_signed('user', 'alice', path => '/', httponly => 1);
#   await $send->({ type => 'http.response.start', status => 200,
#                   headers => [ ['set-cookie', $header], ... ] });
#
# A signed cookie's value is "VALUE.SIGNATURE": VALUE percent-encoded,
# SIGNATURE the base64url HMAC-SHA256 of "NAME=VALUE" under a secret (so a
# value signed for one cookie name is not valid under another). Signing uses
# the first secret; verification accepts any of them, which lets a secret be
# rotated: put the new one first, keep the old one until its cookies expire.
# Signatures are compared in constant time. Values are signed, not
# encrypted: the client can read them.
#
# middleware($app) puts the object in $scope->{'pagi.cookies'} for the app.
use strict;
use warnings;
use Carp ();
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 ();

sub new {
    my ($class, %args) = @_;
    my $secrets = $args{secrets} // (defined $args{secret} ? [ $args{secret} ] : undef);
    Carp::croak('PAGI::Gateway::Cookies: secrets => [at least one non-empty secret]')
        unless ref $secrets eq 'ARRAY' && @$secrets && !grep { !defined || !length } @$secrets;
    return bless { secrets => [@$secrets] }, $class;
}

# Every cookie of the request as name => value (percent-decoded; the first
# one wins when a name repeats).
sub parse {
    my ($self, $scope) = @_;
    return $scope->{'pagi.cookies.parsed'} if $scope->{'pagi.cookies.parsed'};
    my %jar;
    for my $h (@{ $scope->{headers} || [] }) {
        next unless lc $h->[0] eq 'cookie';
        for my $pair (split /;\s*/, $h->[1]) {
            my ($name, $value) = $pair =~ /\A\s*([^=\s]+)\s*=\s*(.*?)\s*\z/ or next;
            $value = $1 if $value =~ /\A"(.*)"\z/;
            $jar{$name} //= _unescape($value);
        }
    }
    return $scope->{'pagi.cookies.parsed'} = \%jar;
}

sub get {
    my ($self, $scope, $name) = @_;
    return $self->parse($scope)->{$name};
}

# The verified value, or undef when the cookie is absent, unsigned or its
# signature does not match any secret.
sub get_signed {
    my ($self, $scope, $name) = @_;
    my $raw = $self->get($scope, $name);
    return undef unless defined $raw;
    return $self->verify($name, $raw);
}

# verify(NAME, "VALUE.SIG") -> VALUE or undef.
sub verify {
    my ($self, $name, $signed) = @_;
    my $dot = rindex($signed, '.');
    return undef if $dot < 0;
    my ($value, $sig) = (substr($signed, 0, $dot), substr($signed, $dot + 1));
    my $escaped = _escape($value);
    my $ok = 0;
    # Every secret is tried, so the time taken does not tell which matched.
    for my $secret (@{ $self->{secrets} }) {
        $ok |= _equal($sig, _sign($secret, $name, $escaped));
    }
    return $ok ? $value : undef;
}

# sign(NAME, VALUE) -> "VALUE.SIG" (VALUE unescaped; escaped in the header).
sub sign {
    my ($self, $name, $value) = @_;
    return $value . '.' . _sign($self->{secrets}[0], $name, _escape($value));
}

# A Set-Cookie header value. Attributes: path, domain, expires (string),
# max_age, secure, httponly, samesite.
sub set {
    my ($self, $name, $value, %attr) = @_;
    Carp::croak("PAGI::Gateway::Cookies: bad cookie name '$name'") unless $name =~ /\A[!#\$%&'*+\-.^_`|~0-9A-Za-z]+\z/;
    my $out = "$name=" . _escape($value);
    $out .= "; Path=$attr{path}"        if defined $attr{path};
    $out .= "; Domain=$attr{domain}"    if defined $attr{domain};
    $out .= "; Expires=$attr{expires}"  if defined $attr{expires};
    $out .= "; Max-Age=" . int($attr{max_age}) if defined $attr{max_age};
    $out .= "; Secure"                  if $attr{secure};
    $out .= "; HttpOnly"                if $attr{httponly};
    $out .= "; SameSite=$attr{samesite}" if defined $attr{samesite};
    return $out;
}

sub set_signed {
    my ($self, $name, $value, %attr) = @_;
    return $self->set($name, $self->sign($name, $value), %attr);
}

# Wraps a PAGI app: $scope->{'pagi.cookies'} is this object.
sub middleware {
    my ($self, $app) = @_;
    return sub {
        my ($scope, @rest) = @_;
        $scope->{'pagi.cookies'} = $self if $scope->{type} ne 'lifespan';
        return $app->($scope, @rest);
    };
}

sub _sign {
    my ($secret, $name, $escaped) = @_;
    my $sig = MIME::Base64::encode_base64(hmac_sha256("$name=$escaped", $secret), '');
    $sig =~ tr{+/}{-_};
    $sig =~ s/=+\z//;
    return $sig;
}

# Constant time for equal lengths (signature lengths are public).
sub _equal {
    my ($a, $b) = @_;
    return 0 unless length $a == length $b;
    my $diff = 0;
    $diff |= ord(substr($a, $_, 1)) ^ ord(substr($b, $_, 1)) for 0 .. length($a) - 1;
    return $diff == 0 ? 1 : 0;
}

sub _escape {
    my ($s) = @_;
    $s //= '';
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~!\$&'()*+:\@\/?])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub _unescape {
    my ($s) = @_;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

1;
