from autotosis.cli.main import main

main()
