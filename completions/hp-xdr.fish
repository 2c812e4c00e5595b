complete -c hp-xdr -l config -d 'Config file: TOML, or the original config.txt key=value format. [default: $XDG_CONFIG_HOME/hp/xdr.toml, if it exists]' -r -F
complete -c hp-xdr -l region -d 'XDR region; selects the token/IROH and private-intel hosts. [default: us]' -r -f -a "us\t''
eu\t''
apjc\t''"
complete -c hp-xdr -l iroh-url -d 'Base URL of the token and IROH host, overriding the region\'s' -r
complete -c hp-xdr -l ctia-url -d 'Base URL of the private-intel (CTIA) host, overriding the region\'s' -r
complete -c hp-xdr -l prefix -d 'External-id prefix of every entity hp creates. [default: hp]' -r
complete -c hp-xdr -l source -d 'CTIM source of every entity hp creates. [default: hp-honeypot]' -r
complete -c hp-xdr -l state-dir -d 'State directory. [default: $XDG_STATE_HOME/hp, else ~/.local/state/hp]' -r -F
complete -c hp-xdr -l lock-timeout -d 'Seconds to wait for the state directory\'s lock' -r
complete -c hp-xdr -l timeout -d 'Seconds allowed for one HTTP exchange' -r
complete -c hp-xdr -l retries -d 'Retries of a request after a network error, 5xx, 429 or unreadable body' -r
complete -c hp-xdr -l backoff-ms -d 'Milliseconds before the first retry; doubled for each further retry, at most 60 s. A 429\'s Retry-After takes precedence' -r
complete -c hp-xdr -l honeypot-name -d 'Name of the honeypot in titles and in the incident\'s external id. [default: the honeypot hostname]' -r
complete -c hp-xdr -l honeypot-hostname -d 'Hostname of the honeypot, the sighting\'s target' -r
complete -c hp-xdr -l honeypot-ip -d 'IP address of the honeypot, the sighting\'s target' -r
complete -c hp-xdr -l honeypot-mac -d 'MAC address of the honeypot (optional)' -r
complete -c hp-xdr -l judgement-days -d 'Days a judgement stays valid, and an address counts as sent. [default: 30]' -r
complete -c hp-xdr -l max-entities -d 'Maximum entities per bundle; larger batches are split. [default: 500]' -r
complete -c hp-xdr -l flush-secs -d 'With --follow: seconds after the first waiting address arrived at which the waiting addresses are sent. SIGINT or SIGTERM saves them in the state directory for the next run instead' -r
complete -c hp-xdr -l max-batch -d 'With --follow: number of waiting addresses that are sent at once, without waiting for --flush-secs' -r
complete -c hp-xdr -l allow-http-loopback -d 'Allow plain http:// base URLs on a loopback host (local test servers)'
complete -c hp-xdr -s q -l quiet -d 'Print no progress or summary on stderr; errors and warnings still go there'
complete -c hp-xdr -l feed -d 'Put every attacker on the blocking feed (one judgement each)'
complete -c hp-xdr -l no-feed -d 'Send no judgements, even if the config file enables the feed'
complete -c hp-xdr -l resend -d 'Send addresses again even if an earlier send is still valid'
complete -c hp-xdr -l follow -d 'Read standard input as a stream that does not end (e.g. from a following hp-correlate) and send a batch whenever input pauses'
complete -c hp-xdr -l dry-run -d 'Print the bundles that would be sent, one JSON document per line, and exit. Needs no credentials and leaves the state directory alone'
complete -c hp-xdr -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hp-xdr -s V -l version -d 'Print version'
