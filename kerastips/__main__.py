from kerastips.cli import main

main()
