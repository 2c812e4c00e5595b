complete -c hp-correlate -l rule -d 'Rule whose hits count toward promotion (repeatable)' -r
complete -c hp-correlate -l threshold -d 'Promote an address with more than N hits (11 or more by default)' -r
complete -c hp-correlate -l window -d 'Promote only when more than the threshold of hits fall inside one window of this log-time length: a number with s, m, h, d or w, e.g. 10m; a bare number is seconds' -r
complete -c hp-correlate -l score -d 'Promote when the sum of impact weights over all rules (high 3, medium 2, low 1) is more than N; replaces the hit count' -r
complete -c hp-correlate -l cooldown -d 'With --follow, write a promoted address again when it keeps attacking this long (log time) after it was last written: a number with s, m, h, d or w, e.g. 1h. Without it, an address is written once' -r
complete -c hp-correlate -l exclude -d 'Never promote addresses in this range, e.g. 198.51.100.0/24, or this single address (repeatable)' -r
complete -c hp-correlate -l exclude-file -d 'Read more ranges to exclude from FILE: one CIDR or address per line; \'#\' starts a comment' -r -F
complete -c hp-correlate -l all-rules -d 'Count the hits of every rule toward promotion'
complete -c hp-correlate -l distinct -d 'Count distinct request targets instead of hits (exact up to 1000 per address and rule)'
complete -c hp-correlate -l all -d 'Write every address, not only the promoted ones'
complete -c hp-correlate -l follow -d 'Live mode: write each address the moment it is promoted, flushed at once, instead of all addresses at the end. For tail -F pipelines'
complete -c hp-correlate -s q -l quiet -d 'Print no warnings and no summary on stderr'
complete -c hp-correlate -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hp-correlate -s V -l version -d 'Print version'
