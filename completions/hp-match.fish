complete -c hp-match -l pack -d 'Built-in rule pack to load, in place of the default (repeatable). See --list-rules' -r
complete -c hp-match -l rules -d 'Rule file (TOML) to load in addition to the packs (repeatable)' -r -F
complete -c hp-match -l show-malformed -d 'Number of malformed lines printed in full before the rest are only counted' -r
complete -c hp-match -l no-default-rules -d 'Load no built-in pack: only the files given with --rules'
complete -c hp-match -l list-rules -d 'Print the loaded packs and rules, then exit'
complete -c hp-match -l all -d 'Write a record for every parsed line; rule, name and impact are null on lines that fire nothing'
complete -c hp-match -l line-buffered -d 'Flush the output after each input line, for live use with tail -F'
complete -c hp-match -l follow -d 'Follow FILE as it grows, across rotation by rename or copytruncate, until SIGINT or SIGTERM; implies --line-buffered. Takes one plain (not gzip) file'
complete -c hp-match -l from-end -d 'With --follow, start at the end of the file instead of its start'
complete -c hp-match -s q -l quiet -d 'Print no warnings and no summary on stderr'
complete -c hp-match -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hp-match -s V -l version -d 'Print version'
