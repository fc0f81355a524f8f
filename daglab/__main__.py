from daglab.cli import main

main()
