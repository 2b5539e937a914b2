# bash completion for siphon. Load it with:  source scripts/siphon-completion.bash
# (or copy it to /etc/bash_completion.d/siphon). Completes commands, options, option values
# and file names.

_siphon_commands="image demo"
_siphon_image_commands="create info check map compare rebase"

# options of each command; a trailing '=' marks an option that takes a value
_siphon_options_demo="--dir= --keep"
_siphon_options_image_create="-f= -b= -F= -o= -u -q"
_siphon_options_image_info="-f= --output= -U --force-share --backing-chain"
_siphon_options_image_check="-f= --output= -r= -U --force-share"
_siphon_options_image_map="-f= --output= -U --force-share"
_siphon_options_image_compare="-f= -F= -s -q -U --force-share"
_siphon_options_image_rebase="-f= -b= -F= -u"
_siphon_common_options="-h --help --debug"

_siphon() {
    local cur prev words cword
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}

    # the command path: siphon [image] COMMAND
    local path="" i word
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
            -*) ;;
            image) [ -z "$path" ] && path=image ;;
            demo) [ -z "$path" ] && path=demo ;;
            create|info|check|map|compare|rebase) [ "$path" = image ] && path="image_$word" ;;
        esac
    done

    # values of options that take one
    case $prev in
        -f|-F)
            COMPREPLY=($(compgen -W "qcow2 qed raw" -- "$cur")); return ;;
        -r)
            COMPREPLY=($(compgen -W "leaks all" -- "$cur")); return ;;
        --output)
            COMPREPLY=($(compgen -W "human json" -- "$cur")); return ;;
        -o)
            COMPREPLY=($(compgen -W "cluster_size= compat=0.10 compat=1.1 refcount_bits= lazy_refcounts=on lazy_refcounts=off" -- "$cur")); return ;;
        -b|--dir)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    if [[ $cur == --output=* ]]; then
        COMPREPLY=($(compgen -W "--output=human --output=json" -- "$cur")); return
    fi

    case $path in
        "")
            COMPREPLY=($(compgen -W "$_siphon_commands $_siphon_common_options" -- "$cur")); return ;;
        image)
            COMPREPLY=($(compgen -W "$_siphon_image_commands $_siphon_common_options" -- "$cur")); return ;;
    esac

    if [[ $cur == -* ]]; then
        local var="_siphon_options_$path" options
        options=${!var}
        COMPREPLY=($(compgen -W "${options//=/} $_siphon_common_options" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}

complete -o filenames -F _siphon siphon ./siphon
