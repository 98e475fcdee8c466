return sub { my $x = ; };
