from fleetsim.cli.main import main

main()
