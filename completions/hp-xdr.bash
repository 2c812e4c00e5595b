_hp__xdr() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="hp__xdr"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        hp__xdr)
            opts="-q -h -V --config --region --iroh-url --ctia-url --allow-http-loopback --prefix --source --state-dir --lock-timeout --timeout --retries --backoff-ms --quiet --honeypot-name --honeypot-hostname --honeypot-ip --honeypot-mac --feed --no-feed --judgement-days --max-entities --resend --follow --flush-secs --max-batch --dry-run --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -W "us eu apjc" -- "${cur}"))
                    return 0
                    ;;
                --iroh-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ctia-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --prefix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --source)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --state-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --lock-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retries)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --backoff-ms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --honeypot-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --honeypot-hostname)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --honeypot-ip)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --honeypot-mac)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --judgement-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-entities)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --flush-secs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-batch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _hp__xdr -o nosort -o bashdefault -o default hp-xdr
else
    complete -F _hp__xdr -o bashdefault -o default hp-xdr
fi
