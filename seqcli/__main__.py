from seqcli.cli.main import main

main()
