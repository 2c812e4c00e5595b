complete -c hp-report -l format -d 'Output format' -r -f -a "text\t''
csv\t''
markdown\t''
html\t'One self-contained page with charts; it always has the detection table'"
complete -c hp-report -s o -l output -d 'Write the report to FILE instead of stdout' -r -F
complete -c hp-report -l rules -d 'Rule file whose names and impacts label rules that the built-in packs do not know (repeatable)' -r -F
complete -c hp-report -l detail -d 'Also list every detection (impact, name and raw line); needs detection records, not aggregates'
complete -c hp-report -s q -l quiet -d 'Print no warnings on stderr'
complete -c hp-report -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hp-report -s V -l version -d 'Print version'
