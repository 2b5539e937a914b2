# bash completion for siphon. Load it with:  source scripts/siphon-completion.bash
# (or copy it to /etc/bash_completion.d/siphon). Completes commands, options, option values
# and file names.

_siphon_commands="image demo define undefine start shutdown destroy list dominfo domstate domblklist domblkinfo domblkstat dumpxml autostart blockpull blockjob event uri version daemon"
_siphon_image_commands="create amend info check map measure compare convert commit rebase resize snapshot pull serve"

# options of each command; a trailing '=' marks an option that takes a value
_siphon_options_image_create="-f= -b= -F= -o= -u -q --allow-remote-backing --cache-dir= --cache-size= --remote-timeout="
_siphon_options_image_amend="-f= -o= -p -q --force"
_siphon_options_image_info="-f= --output= -U --force-share --backing-chain --allow-remote-backing --cache-dir= --cache-size= --remote-timeout="
_siphon_options_image_check="-f= --output= -r= -U --force-share -q"
_siphon_options_image_map="-f= --output= -U --force-share --start-offset= --max-length= --allow-remote-backing --cache-dir= --cache-size= --remote-timeout="
_siphon_options_image_compare="-f= -F= -s -U --force-share -q -p --allow-remote-backing --cache-dir= --cache-size= --remote-timeout="
_siphon_options_image_convert="-f= -O= -o= -B= -F= -c --compress -p -q -n -W -m= -S= -U --force-share"
_siphon_options_image_commit="-f= -b= -d -p -q -r= -t="
_siphon_options_image_measure="-f= --output= -U --force-share -O= -o= --size="
_siphon_options_image_rebase="-f= -b= -F= -u -p -q"
_siphon_options_image_resize="-f= --shrink -q"
_siphon_options_image_pull="-f= --base= --keep-relative --bandwidth= -p --on-outage= --allow-remote-backing --cache-dir= --cache-size= --remote-timeout="
_siphon_options_image_snapshot="-l -c= -d= -a= -U --force-share -q"
_siphon_options_image_serve="-f= -k= --socket= -p= --port= -b= --bind= --tls-creds= -r --read-only -x= --name= --copy-on-read --buffer-memory= --allow-remote-backing --cache-dir= --cache-size= --remote-timeout="
_siphon_options_demo="--dir= --keep --vm"
_siphon_options_define=""
_siphon_options_undefine=""
_siphon_options_start=""
_siphon_options_shutdown=""
_siphon_options_destroy=""
_siphon_options_list="--all --inactive --name --uuid --autostart --no-autostart --output="
_siphon_options_dominfo="--output="
_siphon_options_domstate="--output="
_siphon_options_uri=""
_siphon_options_version=""
_siphon_options_domblklist="--details --output="
_siphon_options_domblkinfo="--human --all --output="
_siphon_options_domblkstat="--human --output="
_siphon_options_dumpxml=""
_siphon_options_autostart="--disable"
_siphon_options_blockpull="--bandwidth= --bytes --base= --keep-relative --pace= --pace-latency= --order= --on-outage= --wait --verbose --timeout= --async --step"
_siphon_options_blockjob="--info --raw --bytes --abort --async --bandwidth= --pause --resume --output="
_siphon_options_event="--domain= --event= --all --list --loop --timeout= --timestamp --output="
_siphon_options_daemon="--config= --state-dir= --driver= --socket= --ro-socket= --log-level= --log-file= --log-max-size= --log-max-days= --nbd-buffer-memory= --allow-remote-backing --remote-cache-size= --remote-timeout= --profile-window= --tls-listen= --tls-cert= --tls-key= --tls-ca= --http="
# options every command takes
_siphon_common_options="-h --help --debug --connect="

_siphon() {
    local cur prev words cword
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    # the command path: siphon COMMAND, or siphon image COMMAND
    local path="" i word
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        [[ $word == -* ]] && continue
        if [ -z "$path" ] && [[ " $_siphon_commands " == *" $word "* ]]; then
            path=$word
        elif [ "$path" = image ] && [[ " $_siphon_image_commands " == *" $word "* ]]; then
            path="image_$word"
        fi
    done

    # values of options that take one
    case $prev in
        -c|--connect)
            COMPREPLY=($(compgen -W "embedded:/// siphon:///session siphon+unix:/// siphon+tls://" -- "$cur")); return ;;
        --event)
            COMPREPLY=($(compgen -W "lifecycle block-job block-job-2" -- "$cur")); return ;;
        --domain)
            COMPREPLY=($(compgen -W "$(_siphon_domains)" -- "$cur")); return ;;
        -f|-F|-O)
            COMPREPLY=($(compgen -W "qcow2 qed raw" -- "$cur")); return ;;
        -r)
            COMPREPLY=($(compgen -W "leaks all" -- "$cur")); return ;;
        --output)
            COMPREPLY=($(compgen -W "human json" -- "$cur")); return ;;
        --on-outage)
            COMPREPLY=($(compgen -W "pause fail" -- "$cur")); return ;;
        --driver)
            COMPREPLY=($(compgen -W "embedded qemu" -- "$cur")); return ;;
        --pace)
            COMPREPLY=($(compgen -W "limit guest" -- "$cur")); return ;;
        --log-level)
            COMPREPLY=($(compgen -W "error warn info debug trace" -- "$cur")); return ;;
        --order)
            COMPREPLY=($(compgen -W "offset profile" -- "$cur")); return ;;
        -o)
            COMPREPLY=($(compgen -W "cluster_size= compat=0.10 compat=1.1 refcount_bits= lazy_refcounts=on lazy_refcounts=off" -- "$cur")); return ;;
        -b|-B|--dir|--base|-k|--socket|--ro-socket|--state-dir|--tls-creds|--cache-dir|--config|--log-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ $cur == --output=* ]]; then
        COMPREPLY=($(compgen -W "--output=human --output=json" -- "$cur")); return
    fi

    case $path in
        "")
            COMPREPLY=($(compgen -W "$_siphon_commands -c -v --version ${_siphon_common_options//=/}" -- "$cur")); return ;;
        image)
            COMPREPLY=($(compgen -W "$_siphon_image_commands ${_siphon_common_options//=/}" -- "$cur")); return ;;
    esac

    if [[ $cur == -* ]]; then
        local var="_siphon_options_$path" options
        options=${!var}
        COMPREPLY=($(compgen -W "${options//=/} ${_siphon_common_options//=/}" -- "$cur"))
        return
    fi
    _siphon_domain_arguments "$path" && return
    COMPREPLY=($(compgen -f -- "$cur"))
}

# the -c URI on the line being completed, so that names come from the same place
_siphon_connect() {
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -c|--connect) echo "-c ${COMP_WORDS[i+1]}"; return ;;
        esac
    done
}

_siphon_domains() {
    "${COMP_WORDS[0]}" $(_siphon_connect) list --all --name 2>/dev/null
}

# DOMAIN, then DISK (a target from domblklist), for the commands that take them
_siphon_domain_arguments() {
    case $1 in
        undefine|start|shutdown|destroy|dominfo|domstate|domblklist|domblkinfo|domblkstat|dumpxml|autostart|blockpull|blockjob) ;;
        *) return 1 ;;
    esac
    local i positional=() word
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
            -c|--connect|--bandwidth|--base|--timeout) ((i++)) ;;
            -*) ;;
            *) positional+=("$word") ;;
        esac
    done
    # positional[0] is the command itself
    case ${#positional[@]} in
        1) COMPREPLY=($(compgen -W "$(_siphon_domains)" -- "$cur")) ;;
        2) case $1 in
               blockpull|blockjob|domblkinfo|domblkstat)
                   COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" $(_siphon_connect) domblklist "${positional[1]}" 2>/dev/null | awk 'NR > 2 && NF { print $1 }')" -- "$cur")) ;;
               *) return 1 ;;
           esac ;;
        *) return 1 ;;
    esac
    return 0
}

complete -o filenames -F _siphon siphon ./siphon
