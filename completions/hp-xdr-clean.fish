complete -c hp-xdr-clean -l config -d 'Config file: TOML, or the original config.txt key=value format. [default: $XDG_CONFIG_HOME/hp/xdr.toml, if it exists]' -r -F
complete -c hp-xdr-clean -l region -d 'XDR region; selects the token/IROH and private-intel hosts. [default: us]' -r -f -a "us\t''
eu\t''
apjc\t''"
complete -c hp-xdr-clean -l iroh-url -d 'Base URL of the token and IROH host, overriding the region\'s' -r
complete -c hp-xdr-clean -l ctia-url -d 'Base URL of the private-intel (CTIA) host, overriding the region\'s' -r
complete -c hp-xdr-clean -l prefix -d 'External-id prefix of every entity hp creates. [default: hp]' -r
complete -c hp-xdr-clean -l source -d 'CTIM source of every entity hp creates. [default: hp-honeypot]' -r
complete -c hp-xdr-clean -l state-dir -d 'State directory. [default: $XDG_STATE_HOME/hp, else ~/.local/state/hp]' -r -F
complete -c hp-xdr-clean -l lock-timeout -d 'Seconds to wait for the state directory\'s lock' -r
complete -c hp-xdr-clean -l timeout -d 'Seconds allowed for one HTTP exchange' -r
complete -c hp-xdr-clean -l retries -d 'Retries of a request after a network error, 5xx, 429 or unreadable body' -r
complete -c hp-xdr-clean -l backoff-ms -d 'Milliseconds before the first retry; doubled for each further retry, at most 60 s. A 429\'s Retry-After takes precedence' -r
complete -c hp-xdr-clean -l older-than -d 'Only entities created more than this long ago, e.g. 30d, 12h, 90m, 2w' -r
complete -c hp-xdr-clean -l page-size -d 'Results per search page; pages follow X-Next to the end' -r
complete -c hp-xdr-clean -l allow-http-loopback -d 'Allow plain http:// base URLs on a loopback host (local test servers)'
complete -c hp-xdr-clean -s q -l quiet -d 'Print no progress or summary on stderr; errors and warnings still go there'
complete -c hp-xdr-clean -l yes -d 'Delete the listed entities; without it nothing is deleted'
complete -c hp-xdr-clean -l from-state -d 'Take the entities from the ids recorded in the state directory instead of searching XDR by source and prefix'
complete -c hp-xdr-clean -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hp-xdr-clean -s V -l version -d 'Print version'
