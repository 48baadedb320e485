# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_packwright_global_optspecs
    string join \n C/project= manifest= json h/help V/version
end

function __fish_packwright_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_packwright_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_packwright_using_subcommand
    set -l cmd (__fish_packwright_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c packwright -n "__fish_packwright_needs_command" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_needs_command" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_needs_command" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_needs_command" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_needs_command" -s V -l version -d 'Print version'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "build" -d 'Build packages into the output directory'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "release" -d 'Build, then write SHA256SUMS(.asc), artifacts.json and an SPDX SBOM per artifact'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "publish" -d 'Add built packages to signed static apt, dnf, pacman and apk repositories'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "ci" -d 'Print a CI workflow that builds, releases and publishes on a tag'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "check" -d 'Validate the manifest and print the plan per format'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "inspect" -d 'Show a package\'s metadata, files and scripts (any of the six formats)'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "import" -d 'Write a manifest from an nfpm configuration (nfpm.yaml)'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "init" -d 'Write a manifest: from Cargo.toml in a Cargo project, else a commented starter'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "manpage" -d 'Print a man page (roff): packwright\'s, or packwright-hook\'s'
complete -c packwright -n "__fish_packwright_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c packwright -n "__fish_packwright_using_subcommand build" -l format -d 'Comma-separated formats (deb, rpm, pacman, apk, targz, zip) [default: all]' -r
complete -c packwright -n "__fish_packwright_using_subcommand build" -l out -d 'Output directory' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand build" -l pgp-key -d 'OpenPGP secret key (armored): signs rpm packages, repositories and SHA256SUMS' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand build" -l pgp-passphrase -d 'Passphrase of --pgp-key' -r
complete -c packwright -n "__fish_packwright_using_subcommand build" -l rsa-key -d 'RSA private key (PEM): signs apk packages and APKINDEX' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand build" -l rsa-key-name -d 'apk key name (default: the key file\'s name plus `.pub`)' -r
complete -c packwright -n "__fish_packwright_using_subcommand build" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand build" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand build" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand build" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand release" -l format -d 'Comma-separated formats (deb, rpm, pacman, apk, targz, zip) [default: all]' -r
complete -c packwright -n "__fish_packwright_using_subcommand release" -l out -d 'Output directory' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand release" -l pgp-key -d 'OpenPGP secret key (armored): signs rpm packages, repositories and SHA256SUMS' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand release" -l pgp-passphrase -d 'Passphrase of --pgp-key' -r
complete -c packwright -n "__fish_packwright_using_subcommand release" -l rsa-key -d 'RSA private key (PEM): signs apk packages and APKINDEX' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand release" -l rsa-key-name -d 'apk key name (default: the key file\'s name plus `.pub`)' -r
complete -c packwright -n "__fish_packwright_using_subcommand release" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand release" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand release" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand release" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l repo -d 'Repository root (apt/, rpm/<arch>/, pacman/<arch>/, apk/<arch>/, keys/)' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l from -d 'Where the built packages are' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l keep -d 'Keep the newest N versions (stops and, with semver-major, each major\'s newest stay) [default: `[publish] keep`, else all]' -r
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l name -d 'Repository and key name [default: `[publish] name`, else the package\'s name]' -r
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l suite -d 'apt suite [default: `[publish] suite`, else stable]' -r
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l component -d 'apt component [default: `[publish] component`, else main]' -r
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l url -d 'Public URL of --repo, for the pages\' lines [default: `[publish] url`, else file://<repo>]' -r
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l pgp-key -d 'OpenPGP secret key (armored): signs rpm packages, repositories and SHA256SUMS' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l pgp-passphrase -d 'Passphrase of --pgp-key' -r
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l rsa-key -d 'RSA private key (PEM): signs apk packages and APKINDEX' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l rsa-key-name -d 'apk key name (default: the key file\'s name plus `.pub`)' -r
complete -c packwright -n "__fish_packwright_using_subcommand publish" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand publish" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand publish" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand ci" -l keep -d 'The workflow\'s `publish --keep`' -r
complete -c packwright -n "__fish_packwright_using_subcommand ci" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand ci" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand ci" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand ci" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand check" -l format -r
complete -c packwright -n "__fish_packwright_using_subcommand check" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand check" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand check" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand check" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand inspect" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand inspect" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand inspect" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand import" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand import" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand import" -l force -d 'Replace an existing manifest'
complete -c packwright -n "__fish_packwright_using_subcommand import" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand import" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand init" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand init" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand init" -l force -d 'Replace an existing manifest'
complete -c packwright -n "__fish_packwright_using_subcommand init" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand init" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand completions" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand completions" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand completions" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand completions" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand manpage" -s C -l project -d 'Project directory: relative sources in the manifest resolve here' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand manpage" -l manifest -d 'The manifest [default: <project>/packaging/packwright.toml]' -r -F
complete -c packwright -n "__fish_packwright_using_subcommand manpage" -l json -d 'Machine-readable output on stdout'
complete -c packwright -n "__fish_packwright_using_subcommand manpage" -s h -l help -d 'Print help'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "build" -d 'Build packages into the output directory'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "release" -d 'Build, then write SHA256SUMS(.asc), artifacts.json and an SPDX SBOM per artifact'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "publish" -d 'Add built packages to signed static apt, dnf, pacman and apk repositories'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "ci" -d 'Print a CI workflow that builds, releases and publishes on a tag'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "check" -d 'Validate the manifest and print the plan per format'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "inspect" -d 'Show a package\'s metadata, files and scripts (any of the six formats)'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "import" -d 'Write a manifest from an nfpm configuration (nfpm.yaml)'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "init" -d 'Write a manifest: from Cargo.toml in a Cargo project, else a commented starter'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "completions" -d 'Print shell completions'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "manpage" -d 'Print a man page (roff): packwright\'s, or packwright-hook\'s'
complete -c packwright -n "__fish_packwright_using_subcommand help; and not __fish_seen_subcommand_from build release publish ci check inspect import init completions manpage help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
