from mandala_db.cli import main

main()
