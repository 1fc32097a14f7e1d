from civicgen.cli import main

main()
