from timbrespace.cli import main

main()
