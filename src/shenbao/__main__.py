from shenbao.cli import main

main()
