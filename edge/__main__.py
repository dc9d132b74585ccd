"""python -m edge: run the edge agent, configured from CARDAK_EDGE_* variables."""

from edge.agent import main

if __name__ == "__main__":
    main()
