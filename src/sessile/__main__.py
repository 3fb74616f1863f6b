from sessile.cli import main

main()
